import { TOPICS } from "../lib/resources";

export const alerts = new sst.aws.SnsTopic(TOPICS.alerts.link);
