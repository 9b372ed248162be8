import { describe, expect, it } from 'vitest';
import type { AbilityDefinitions } from '../authorization/ability.types.js';
import { renderPermissionMatrix } from './permission-matrix.js';

const definitions: AbilityDefinitions = {
  user: (principal, _env, { can, cannot }) => {
    if (principal.roles.includes('editor')) {
      can(['read', 'update'], 'Page');
      cannot('update', 'Page', { locked: true });
      can('update', 'Comment', ['body'], { authorId: principal.id });
    }
  },
  service: (principal, _env, { can }) => {
    if (principal.id === 'indexer') can('read', 'all');
  },
};

describe('renderPermissionMatrix', () => {
  it('renders principals × actions per subject, marking conditional grants and exceptions', async () => {
    const markdown = await renderPermissionMatrix(definitions, {
      principals: [
        { kind: 'user', roles: ['editor'] },
        { kind: 'user', roles: [], label: 'reader' },
        { kind: 'service', id: 'indexer', roles: [], label: 'indexer' },
        { kind: 'integration', roles: ['partner'] },
      ],
      actions: ['read', 'update'],
      subjects: ['Page', 'Comment'],
      title: 'Wiki',
    });
    expect(markdown.split('\n')).toEqual([
      '# Wiki',
      '',
      'Rendered from the ability definitions; ✅ allowed, ✅ conditional (…) allowed only on records',
      'meeting the named conditions or for the named fields, — refused (default deny).',
      '',
      '## Page',
      '',
      '| principal | read | update |',
      '|---|---|---|',
      '| user editor (user) | ✅ | ✅ except if locked |',
      '| reader (user) | — | — |',
      '| indexer (service) | ✅ | — |',
      '| integration partner (integration) | — | — |',
      '',
      '## Comment',
      '',
      '| principal | read | update |',
      '|---|---|---|',
      '| user editor (user) | — | ✅ conditional (fields: body; if authorId) |',
      '| reader (user) | — | — |',
      '| indexer (service) | ✅ | — |',
      '| integration partner (integration) | — | — |',
      '',
    ]);
  });
});
