/** The Node.js versions hrserve supports, as package.json "engines" states them. */
export const SUPPORTED_NODE = '^24.11.0 || >=26.0.0';

/** True when `version` ("v24.21.0" or "24.21.0") is within SUPPORTED_NODE. */
export function isSupportedNode(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major >= 26 || (major === 24 && minor >= 11);
}
