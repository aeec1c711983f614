/** `"` and `\` escaped for a quoted AIP-160 value; `*` too, so a typed star is literal. */
function quoted(text: string): string {
  return text.replace(/[\\"*]/g, (c) => `\\${c}`);
}

/** The filter sent to the server: the search box is a prefix match on the model id. */
export function modelFilter(search: string, advanced: string): string {
  const parts: string[] = [];
  if (search.trim()) parts.push(`model_id:"${quoted(search.trim())}*"`);
  if (advanced.trim()) parts.push(`(${advanced.trim()})`);
  return parts.join(' AND ');
}
