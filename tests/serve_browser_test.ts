// The web console in a real browser (headless Chromium): a person opens the
// page while the simulated OpenD asks for a phone code, types the code into
// the form, and sees Ready and the highlighted state move.
//
// SCREENSHOT_DIR=docs saves the screenshots shown in the README.
// deno-lint-ignore no-import-prefix
import puppeteer from "npm:puppeteer-core@24.8.2";
import { assert, assertEquals } from "@std/assert";
import { createOpenDClient } from "../client/mod.ts";
import { ProgramStatusType } from "../codec/mod.ts";
import { startSimulator } from "../sim/mod.ts";
import { createServeHandler } from "../serve/mod.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name:
    "console in Chromium: a phone code typed into the page (token asked once) makes OpenD Ready; reset after a fatal stop",
  // CI installs Chromium; only a developer without it skips this test.
  ignore: !hasChromium && Deno.env.get("CI") !== "true",
  async fn() {
    await using sim = await startSimulator({
      port: 0,
      opsPort: false,
      phoneCode: "135790",
    });
    await using client = createOpenDClient({ port: sim.address.port });
    await using handler = createServeHandler(client, {
      log: () => {},
      token: "tok-123",
    });
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      handler.fetch,
    );
    const profile = await Deno.makeTempDir({ prefix: "opend-chromium-" });
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      userDataDir: profile,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      await client.whenReady(30_000);
      sim.requireVerification("phone");
      await sim.waitFor("statusChanged", undefined, { timeoutMs: 10_000 });

      const page = await browser.newPage();
      await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2 });
      await page.goto(`http://127.0.0.1:${server.addr.port}/`);
      await page.waitForSelector("#code-card:not([hidden])", {
        timeout: 30_000,
      });
      const asking = await page.$eval(
        "body",
        (b) => b.getAttribute("data-active") ?? "",
      );
      assert(asking.includes("session.recovery.flow.verifying"), asking);
      const highlighted = await page.$$eval(
        "#chart g.active > title",
        (titles) => titles.map((t) => t.textContent),
      );
      assert(highlighted.includes("session.recovery.flow.verifying"));
      // Nothing wider than the phone's screen but the scrollable chart.
      const overflow = await page.evaluate(
        "document.documentElement.scrollWidth - window.innerWidth",
      );
      assertEquals(overflow, 0);
      const dir = Deno.env.get("SCREENSHOT_DIR");
      if (dir) {
        await page.screenshot({
          path: `${dir}/console_phone.png`,
          fullPage: true,
        });
      }

      await page.type("#code", "135790");
      await page.click("#code-form button");
      // The console has a token: the page asks for it once, then sends the code.
      await page.waitForSelector("#token-card:not([hidden])", {
        timeout: 30_000,
      });
      assertEquals(await page.$eval("#code", (i) => i.value), "");
      await page.type("#token", "tok-123");
      await page.click("#token-form button");
      await page.waitForSelector('body[data-ready="true"]', {
        timeout: 30_000,
      });
      const after = await page.$eval(
        "body",
        (b) => b.getAttribute("data-active") ?? "",
      );
      assert(after.includes("session.recovery.flow.watching"), after);
      assert(!after.includes("session.recovery.flow.verifying"), after);
      assertEquals(await page.$eval("#badge", (b) => b.textContent), "Ready");
      assertEquals(await page.$eval("#code", (i) => i.value), "");
      assert(await page.$eval("#code-card", (c) => c.hidden));
      const timeline = await page.$eval("#timeline", (t) => t.textContent);
      assert(timeline?.includes("console: code submitted"), timeline ?? "");
      assert(!timeline?.includes("135790"));
      assertEquals(client.describe().ready, true);
      assertEquals(
        sim.events.filter((e) => e.type === "codeAccepted").length,
        1,
      );

      // A fatal stop shows the reset button; once the cause is fixed, a
      // click connects again.
      sim.runScenario("banned", { timeScale: 0.01 });
      await page.waitForSelector("#reset-card:not([hidden])", {
        timeout: 30_000,
      });
      assertEquals(await page.$eval("#badge", (b) => b.textContent), "fatal");
      sim.setAccount({ banned: false });
      sim.setProgramStatus(ProgramStatusType.Ready);
      await page.click("#reset");
      await page.waitForSelector('body[data-ready="true"]', {
        timeout: 30_000,
      });
      assert(await page.$eval("#reset-card", (c) => c.hidden));

      if (dir) {
        await page.setViewport({
          width: 1280,
          height: 800,
          deviceScaleFactor: 1,
        });
        await page.screenshot({ path: `${dir}/console.png` });
      }
      await page.close();
    } finally {
      await browser.close();
      await handler.close();
      await server.shutdown();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
