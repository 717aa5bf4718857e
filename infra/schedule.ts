import { SCHEDULES, scheduleMinutes } from "../lib/wiring";
import { lambda } from "./functions";

for (const schedule of SCHEDULES) {
  // The period may come from the deploying shell (e.g. HEARTBEAT_EVERY_MINUTES); the default is in lib/wiring.ts.
  const minutes = scheduleMinutes(schedule);
  new sst.aws.Cron(schedule.name, {
    schedule: `rate(${minutes} ${minutes === 1 ? "minute" : "minutes"})`,
    function: lambda(schedule.function).arn,
  });
}
