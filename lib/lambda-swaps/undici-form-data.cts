/**
 * What a Lambda bundle gets in place of undici's fetch body and FormData code and its WebIDL
 * checks (`undici/lib/web/fetch/body.js`, `…/formdata`, `undici/lib/web/webidl`, ≈45 kB; lib/bundling.ts
 * swaps them in at build time). undici's HTTP/1 client and request require them lazily, only for
 * a FormData body; every body we send is a JSON string. Should one ever be a FormData, that
 * request fails with this message.
 */
throw new Error("undici's FormData support is left out of the Lambda bundles (lib/bundling.ts); send JSON or text bodies");
