import { describe, expect, it } from "vitest";
import { callApi, useStack } from "../../helpers/stack.ts";

const { info } = useStack();
const { bk_app_code, bk_app_secret } = info.credentials.caller;

describe("legacy ESB credentials in the body", () => {
  it("let an ESB client without the header ask get_agent_status, as ESB allows", async () => {
    const res = await callApi(info.gatewayUrl, "/api/c/compapi/v2/gse/get_agent_status/", {
      method: "POST",
      body: { bk_app_code, bk_app_secret, bk_username: "admin", bk_supplier_account: "0", hosts: [{ ip: "10.0.0.1", bk_cloud_id: 0 }] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ result: true, data: { "0:10.0.0.1": { bk_agent_alive: expect.any(Number) } } });
    expect(res.text).not.toContain(bk_app_secret);
  });

  it("are refused on the gateway paths, which take only the header", async () => {
    const res = await callApi(info.gatewayUrl, "/api/v2/cluster/list_agent_state", {
      method: "POST",
      body: { bk_app_code, bk_app_secret, agent_id_list: ["0:10.0.0.1"] },
    });
    expect(res.status).toBe(401);
  });
});
