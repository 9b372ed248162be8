// As in the NestJS docs (Security > Authorization, "Integrating CASL"), with Invoice for Article.
import {
  AbilityBuilder,
  createMongoAbility,
  type ExtractSubjectType,
  type InferSubjects,
  type MongoAbility,
} from '@casl/ability';
import { Injectable } from '@nestjs/common';
import { Invoice, User } from '../invoices/invoice.entity.js';
import { Action } from './action.enum.js';

type Subjects = InferSubjects<typeof Invoice | typeof User> | 'all';

export type AppAbility = MongoAbility<[Action, Subjects]>;

@Injectable()
export class CaslAbilityFactory {
  createForUser(user: User): AppAbility {
    const { can, cannot, build } = new AbilityBuilder<AppAbility>(createMongoAbility);

    if (user.isAdmin) {
      can(Action.Manage, 'all'); // read-write access to everything
    } else {
      can(Action.Read, 'all'); // read-only access to everything
    }

    can(Action.Update, Invoice, { ownerId: user.userId });
    cannot(Action.Delete, Invoice, { status: 'paid' });

    return build({
      // Read https://casl.js.org/v6/en/guide/subject-type-detection#use-classes-as-subject-types for details
      detectSubjectType: (item) => item.constructor as ExtractSubjectType<Subjects>,
    });
  }
}
