import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHANNEL_NAMES, EVENT_NAMES, channels, events } from '../../common/ipc-contract';

describe('schema-free contract names (common/contract/names.ts)', () => {
  it('name exactly the channels and events that have schemas, each once', () => {
    expect([...CHANNEL_NAMES].sort()).toEqual(Object.keys(channels).sort());
    expect([...EVENT_NAMES].sort()).toEqual(Object.keys(events).sort());
    expect(new Set(CHANNEL_NAMES).size).toBe(CHANNEL_NAMES.length);
    expect(new Set(EVENT_NAMES).size).toBe(EVENT_NAMES.length);
  });

  it('keep zod out of the modules bundled into the preload', () => {
    for (const file of ['common/contract/names.ts', 'common/client-api.ts', 'preload/index.ts']) {
      const src = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      // Only `import type` may reach the schema modules; a value import would bundle zod again.
      const valueImports = [...src.matchAll(/^import\s+(?!type\b)[^;]*from\s+'([^']+)'/gm)].map((m) => m[1]);
      expect(
        valueImports.filter((p) => /zod|ipc-contract|contract\/(channels|events|domain|define)/.test(p!)),
        file,
      ).toEqual([]);
    }
  });
});
