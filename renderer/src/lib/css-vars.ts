/**
 * Sets CSS custom properties through the CSSOM. The CSP (style-src 'self') forbids inline style
 * attributes, but element.style.setProperty is not an inline style and is allowed.
 */
export function cssVars(node: HTMLElement, vars: Record<string, string>): { update(v: Record<string, string>): void } {
  const apply = (v: Record<string, string>): void => {
    for (const [k, val] of Object.entries(v)) node.style.setProperty(k, val);
  };
  apply(vars);
  return { update: apply };
}
