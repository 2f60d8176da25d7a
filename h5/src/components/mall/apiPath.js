// The API answers links as absolute paths (/api/v1/rewards/3/picture); the client's calls take them without the
// /api/v1 prefix.
export function apiPath(url) {
  return url?.startsWith('/api/v1') ? url.slice('/api/v1'.length) : url
}
