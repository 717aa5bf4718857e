import { SCHEDULES } from "../lib/wiring";
import { lambda } from "./functions";

for (const schedule of SCHEDULES) {
  new sst.aws.Cron(schedule.name, {
    schedule: `rate(${schedule.everyMinutes} ${schedule.everyMinutes === 1 ? "minute" : "minutes"})`,
    function: lambda(schedule.function).arn,
  });
}
