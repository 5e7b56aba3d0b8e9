/**
 * Plays scenarios on a simulator with real timers: each step calls one of
 * the simulator's public controls (`_ScenarioControls`), and is recorded
 * (start, error, end). Every run is cancelled when the simulator closes.
 * @module
 */
import type { _EventLog } from "./_event_log.ts";
import { _errorText } from "./events.ts";
import {
  _runStep,
  type _ScenarioControls,
  type RunScenarioOptions,
  type ScenarioRun,
  type ScenarioStep,
  validateScenario,
} from "./scenario.ts";
import {
  isScenarioName,
  namedScenario,
  type ScenarioName,
} from "./scenarios.ts";

/** The running scenarios of one simulator. */
export class _ScenarioRunner {
  readonly #controls: _ScenarioControls;
  readonly #events: _EventLog;
  readonly #runs = new Set<{ cancel(): void }>();

  /** `controls` is the simulator itself, seen through its public controls. */
  constructor(controls: _ScenarioControls, events: _EventLog) {
    this.#controls = controls;
    this.#events = events;
  }

  /** The work of {@link OpenDSimulator.runScenario}. */
  run(
    scenario: ScenarioName | readonly ScenarioStep[],
    options: RunScenarioOptions = {},
  ): ScenarioRun {
    let steps: readonly ScenarioStep[];
    let name = options.name;
    if (typeof scenario === "string") {
      if (!isScenarioName(scenario)) {
        throw new TypeError(`unknown scenario ${scenario}`);
      }
      steps = namedScenario(scenario);
      name ??= scenario;
    } else {
      steps = scenario;
    }
    validateScenario(steps);
    const scenarioName = name ?? "custom";
    const timeScale = options.timeScale ?? 1;
    if (!(timeScale >= 0)) throw new RangeError("timeScale must be >= 0");
    const repeat = options.repeat ?? false;
    if (repeat && !steps.some((s) => s.afterMs > 0)) {
      throw new RangeError("a repeated scenario needs a step with afterMs > 0");
    }
    const events = this.#events;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let finish!: (how: "completed" | "cancelled") => void;
    const done = new Promise<"completed" | "cancelled">((r) => finish = r);
    let index = 0;
    let over = false;
    const end = (cancelled: boolean) => {
      if (over) return;
      over = true;
      if (timer !== undefined) clearTimeout(timer);
      this.#runs.delete(handle);
      events.record({
        type: "scenarioEnded",
        scenario: scenarioName,
        cancelled,
      });
      finish(cancelled ? "cancelled" : "completed");
    };
    const handle = { cancel: () => end(true) };
    const next = () => {
      timer = undefined;
      // Zero-delay steps run in the same tick as the step before them.
      do {
        if (over || events.closed) return;
        const step = steps[index];
        events.record({
          type: "scenarioStep",
          scenario: scenarioName,
          index,
          action: step.note ? `${step.action} (${step.note})` : step.action,
        });
        try {
          _runStep(this.#controls, step, timeScale);
        } catch (error) {
          events.record({
            type: "scenarioError",
            scenario: scenarioName,
            index,
            message: _errorText(error),
          });
        }
        index++;
        if (index === steps.length) {
          if (!repeat) return end(false);
          index = 0;
        }
      } while (steps[index].afterMs === 0);
      timer = setTimeout(next, steps[index].afterMs * timeScale);
    };
    if (events.closed) {
      over = true;
      finish("cancelled");
    } else if (steps.length === 0) {
      end(false);
    } else {
      this.#runs.add(handle);
      timer = setTimeout(next, steps[0].afterMs * timeScale);
    }
    return { name: scenarioName, done, cancel: handle.cancel };
  }

  /** Cancels every running scenario. */
  cancelAll(): void {
    for (const run of [...this.#runs]) run.cancel();
  }
}
