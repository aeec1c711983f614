import { useState } from 'react';

/** The tokens of the pages visited so far: `tokens[i]` fetches page i (page 0 has none). */
export function usePageTokens() {
  const [tokens, setTokens] = useState<string[]>(['']);
  const page = tokens.length - 1;
  return {
    page,
    token: tokens[page] || undefined,
    next: (nextToken: string) => setTokens((t) => [...t, nextToken]),
    previous: () => setTokens((t) => (t.length > 1 ? t.slice(0, -1) : t)),
    reset: () => setTokens(['']),
  };
}
