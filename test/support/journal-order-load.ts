import assert from 'node:assert/strict';

/**
 * Rounds of 24 concurrent calls to `url` for tenant acme (every fourth a
 * stream): at least 4 rounds, more (up to 20) until `shared()` says some
 * journal entries shared a write, which a fast idle host may not give in 4.
 * Returns the answers' request ids.
 */
export async function callsUnderLoad(url: string, shared: () => boolean): Promise<string[]> {
  const ids: string[] = [];
  for (let round = 0; round < 20 && (round < 4 || !shared()); round++) {
    const answers = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const stream = i % 4 === 0;
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-tenant-id': 'acme' },
          body: JSON.stringify({ messages: [{ role: 'user', content: `call ${round}.${i}` }], ...(stream ? { stream: true } : {}) }),
        });
        await res.text();
        assert.equal(res.status, 200);
        return res.headers.get('x-llm-request-id')!;
      }),
    );
    ids.push(...answers);
  }
  return ids;
}
