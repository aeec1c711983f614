/**
 * Whether a grant at scope `granted` (`global`, `namespaces/a`, `namespaces/a/models/b`, as
 * whoami names them) covers `scope`: it is global, or `scope` is it or lies inside it. The
 * server decides; the console uses this only to choose which actions to show.
 */
export function covers(granted: string, scope: string): boolean {
  return granted === 'global' || scope === granted || scope.startsWith(`${granted}/`);
}
