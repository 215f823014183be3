/**
 * MQTT topic-filter matching (MQTT 3.1.1 §4.7), as a broker applies an ACL
 * grant: to a topic someone publishes on, or to a whole filter someone
 * subscribes to (every topic the filter can match must be granted).
 */
export function grantCovers(grant: string, topicOrFilter: string): boolean {
  const g = grant.split('/');
  const t = topicOrFilter.split('/');
  for (let i = 0; i < g.length; i++) {
    if (g[i] === '#') return true;
    if (i >= t.length || t[i] === '#') return false;
    if (g[i] !== '+' && (g[i] !== t[i] || t[i] === '+')) return false;
  }
  return g.length === t.length;
}

/** True when one of `grants` covers `topicOrFilter`. */
export function anyGrantCovers(grants: readonly string[], topicOrFilter: string): boolean {
  return grants.some((g) => grantCovers(g, topicOrFilter));
}
