import { setTimeout as sleep } from "node:timers/promises";

/** The poll loop both event source mappings share: passes until stopped, waiting when told to. */
export abstract class PollingLoop {
  private running = false;
  private loop: Promise<void> | undefined;

  /** One pass; resolves true when the loop should wait before the next (idle, or backing off). */
  protected abstract pass(): Promise<boolean>;
  protected abstract waitMs(): number;
  protected abstract onPassError(error: unknown): void;

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Resolves after the pass in flight has finished. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let wait: boolean;
      try {
        wait = await this.pass();
      } catch (error) {
        this.onPassError(error);
        wait = true;
      }
      if (wait && this.running) await sleep(this.waitMs());
    }
  }
}
