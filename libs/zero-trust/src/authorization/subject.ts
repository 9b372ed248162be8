import { detectSubjectType as caslDetectSubjectType, type SubjectType } from '@casl/ability';

const SUBJECT_TYPES = new WeakMap<object, SubjectType>();

/** Tags a loaded record with its subject type, without mutating it. @internal */
export function tagSubject<T extends object>(type: SubjectType, record: T): T {
  SUBJECT_TYPES.set(record, type);
  return record;
}

/** A record's subject type: the one a resolver tagged, else CASL's own detection. @internal */
export function detectSubjectType(record: object): SubjectType {
  return SUBJECT_TYPES.get(record) ?? caslDetectSubjectType(record);
}
