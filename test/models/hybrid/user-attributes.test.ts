import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../../src/data/interactions.js';
import { HybridModel, hybridFamily } from '../../../src/models/hybrid/hybrid.js';
import { attachUserLabels, attributeLabels } from '../../../src/models/hybrid/user-attributes.js';

describe('user attributes as hybrid features', () => {
  it('turns strings and booleans into key=value labels and numbers into bands', () => {
    expect(attributeLabels({ country: 'DE', age: 37, pro: true, note: '', nested: { a: 1 } })).toEqual([
      'country=DE',
      'age~30',
      'pro=true',
    ]);
  });

  it('trains with the attached user labels as features', async () => {
    const users: string[] = [];
    const items: string[] = [];
    for (let u = 0; u < 20; u++) {
      for (let j = 0; j < 3; j++) {
        users.push(`u${u}`);
        items.push(`i${(u % 2) * 5 + j}`);
      }
    }
    const data = interactionsFromArrays({ userIds: users, itemIds: items });
    attachUserLabels(
      data,
      data.users.ids.map((id) => (Number(id.slice(1)) % 2 === 0 ? ['club=a'] : ['club=b'])),
    );
    const model = (await hybridFamily.fit(data, { epochs: 3, factors: 4, cf: 'none' })) as HybridModel;
    expect(model).toBeInstanceOf(HybridModel);
    // The two user labels are features of their own: their vocabulary travels with the artifact.
    const extra = model.toArtifact().header.extra as { userVocabulary?: string[] };
    expect(extra.userVocabulary).toEqual(expect.arrayContaining(['club=a', 'club=b']));
    const roundTrip = HybridModel.fromArtifact(model.toArtifact());
    const a = new Float32Array(data.items.size);
    const b = new Float32Array(data.items.size);
    const ctx = { userIndex: 0, history: new Int32Array(0), historyWeights: new Float32Array(0) };
    model.score(ctx, a);
    roundTrip.score(ctx, b);
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});
