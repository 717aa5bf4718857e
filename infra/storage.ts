import { TABLES, type TableKey } from "../lib/resources";
import { stagePolicy } from "../lib/stages";

const { deletionProtection } = stagePolicy($app.stage);
const fieldType = (type: "S" | "N"): "string" | "number" => (type === "S" ? "string" : "number");

export const tables = Object.fromEntries(
  (Object.keys(TABLES) as TableKey[]).map((key) => {
    const def = TABLES[key];
    const range = "rangeKey" in def ? def.rangeKey : undefined;
    return [
      key,
      new sst.aws.Dynamo(def.link, {
        fields: { [def.hashKey.name]: fieldType(def.hashKey.type), ...(range ? { [range.name]: fieldType(range.type) } : {}) },
        primaryIndex: { hashKey: def.hashKey.name, ...(range ? { rangeKey: range.name } : {}) },
        ...("stream" in def ? { stream: "new-and-old-images" as const } : {}),
        ...("ttlAttribute" in def ? { ttl: def.ttlAttribute } : {}),
        transform: {
          table: (args) => {
            args.pointInTimeRecovery = { enabled: true };
            args.deletionProtectionEnabled = deletionProtection;
          },
        },
      }),
    ];
  }),
) as Record<TableKey, sst.aws.Dynamo>;
