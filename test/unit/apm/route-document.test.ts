import { describe, expect, it } from "vitest";
import { routeDocument, routeName } from "../../../lib/apm/datasources.ts";

const app = { bk_biz_id: 2, app_name: "shop" };
const ds = { data_id: 1_500_100, stream_to_id: 501, topic_name: "apm_trace_1500100", enabled: false };
const other = { name: "someone_else", stream_to: { stream_to_id: 9, kafka: { topic_name: "x" } } };

describe("routeDocument", () => {
  it("starts a channel that does not exist with the datasource's route alone", () => {
    expect(routeDocument(null, app, "trace", ds, true, "bkmonitor")).toEqual({
      plat_name: "bkmonitor",
      route: [{ name: "apm_trace_2_shop", stream_to: { stream_to_id: 501, kafka: { topic_name: "apm_trace_1500100" } } }],
      stream_filters: [],
    });
  });

  it("adds and removes only its own route entry, keeping the channel's other routes and filters", () => {
    const current = {
      plat_name: "bkmonitor",
      route: [other],
      stream_filters: [{ name: "f", field_index: 0, field_data_type: "string" as const, field_data_value: "v" }],
    };
    const started = routeDocument(current, app, "trace", ds, true, "other-plat");
    expect(started.plat_name).toBe("bkmonitor");
    expect(started.route.map((r) => r.name)).toEqual(["someone_else", routeName(app, "trace")]);
    expect(started.stream_filters).toEqual(current.stream_filters);
    // Starting again replaces the entry rather than adding a second one.
    expect(routeDocument(started, app, "trace", { ...ds, stream_to_id: 777 }, true, "bkmonitor").route).toHaveLength(2);
    expect(routeDocument(started, app, "trace", ds, false, "bkmonitor").route).toEqual([other]);
  });
});
