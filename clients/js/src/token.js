// @ts-check
// Reading a JWT's expiry, without verifying it (the server does), so that an expired token is
// never sent.

/**
 * The `exp` claim of a JWT, in seconds since the epoch, or undefined when token is not a JWT
 * or has no numeric exp.
 * @param {string} token
 * @returns {number | undefined}
 */
export function tokenExpiry(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = new TextDecoder().decode(Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0)));
    const claims = JSON.parse(json);
    return typeof claims?.exp === "number" ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}
