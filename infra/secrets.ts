import { SECRETS } from "../lib/resources";

/** Set with `npx sst secret set <Name> <value> --stage <stage>`; never plain environment values. */
export const secrets = {
  gseAppSecret: new sst.Secret(SECRETS.gseAppSecret.link),
  gseSlotToken: new sst.Secret(SECRETS.gseSlotToken.link),
  apiCallers: new sst.Secret(SECRETS.apiCallers.link),
  gseCallbackKey: new sst.Secret(SECRETS.gseCallbackKey.link),
};
