// The monthly deductions report (Art. 36, SPEC §5): totals, people, and the
// CSV and XLSX files with download progress; issuing it (GM, admin) shows
// progress while penalty cuts the month and renders the files.
import { ApiError, download, get, post } from "./api.js";
import { joinList, label, t } from "./i18n.js";
import { clock, complaintLink, errorText, fmtTime, h, hasRole, notice, progress, replace, table } from "./ui.js";

const ISSUERS = ["centre_gm", "admin"];

// An exact decimal string as people read money: "¥1,855,456,800.00" (the
// digits grouped as text, never through a float).
export function money(amount) {
  if (amount === null || amount === undefined || amount === "") return "–";
  const [whole, cents = "00"] = String(amount).replace(/^-/, "").split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${String(amount).startsWith("-") ? "-" : ""}¥${grouped}.${cents.padEnd(2, "0")}`;
}

export const count = (n) => Number(n ?? 0).toLocaleString("en-US");

// ISO instants in a server message ("须在 2031-05-01T00:00:00+08:00 之后出具")
// as the console writes times.
export function humanTimes(text) {
  return String(text).replace(/\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)/g,
    (iso) => fmtTime(iso));
}

// The month's report can be issued once the month has ended in the group's
// zone (penalty's rule, months.require_month_ended): its first instant after.
export function monthEnd(month) {
  const [year, number] = month.split("-").map(Number);
  const next = new Date(Date.UTC(year, number, 1)).toISOString().slice(0, 10);
  return `${next}T00:00:00${clock.zoneOffset}`;
}

// "YYYY-MM" before a "YYYY-MM" (months in the group's zone: clock.inputValue())
export function previousMonth(month) {
  const [year, number] = month.split("-").map(Number);
  return new Date(Date.UTC(year, number - 2, 1)).toISOString().slice(0, 7);
}

export async function reportCard(me, month, { full = true } = {}) {
  const body = h("div", { class: "report" });
  const bar = progress();
  bar.el.hidden = true;

  async function load() {
    let report;
    try {
      report = await get(`/api/reports/monthly/${month}`);
    } catch (error) {
      if (waiting()) {                 // the month runs: said once, in people's time
        body.replaceChildren(h("p", { class: "notice ca-why", id: `issue-why-${month}`,
          text: t("ca.issue.wait", { at: fmtTime(monthEnd(month)) }) }));
      } else if (error instanceof ApiError && [404, 409].includes(error.status) && error.code !== "no_route") {
        body.replaceChildren(notice(error.status === 404 ? t("reports.notissued") : humanTimes(errorText(error))));
      } else {
        body.replaceChildren(notice(errorText(error), "error"));
      }
      if (hasRole(me, ISSUERS)) body.append(issueButton());
      return;
    }
    replace(body, [
      h("p", { class: "muted", text: t("reports.revision", { n: report.revision, at: fmtTime(report.issued_at) }) }),
      h("dl", { class: "totals ca-totals" },
        h("div", {}, h("dt", { text: t("ca.total") }), h("dd", { class: "amount", text: money(report.totals.amount) })),
        h("div", {}, h("dt", { text: t("ca.people") }), h("dd", { text: count(report.totals.people) })),
        h("div", {}, h("dt", { text: t("col.lines") }), h("dd", { text: count(report.line_count) }))),
      h("div", { class: "buttons" }, fileButton(report, "csv"), fileButton(report, "xlsx"),
        hasRole(me, ISSUERS) ? issueButton() : null),
      full ? peopleTable(report) : report.people.length ? h("p", {}, h("a", {
        href: `/reports?month=${month}#report-people`, text: t("ca.drill", { n: count(report.people.length) }) })) : null,
    ]);
  }

  // Each person's row opens their lines of the month (the ledger, GET /api/deductions).
  function peopleTable(report) {
    const open = (p) => {
      const button = h("button", {
        type: "button", class: "link", "aria-expanded": "false", text: p.name || p.person_id || "—",
        onclick: async () => {
          const row = button.closest("tr");
          const shown = row.nextElementSibling?.classList.contains("ca-lines") ? row.nextElementSibling : null;
          if (shown) { shown.remove(); button.setAttribute("aria-expanded", "false"); return; }
          button.setAttribute("aria-expanded", "true");
          const cell = h("td", { colspan: "6" }, h("p", { class: "muted", text: t("msg.loading") }));
          row.after(h("tr", { class: "ca-lines" }, cell));
          try {
            const page = await get("/api/deductions", { month, person_id: p.person_id, limit: 1000 });
            replace(cell, linesTable(p, page.items));
          } catch (error) {
            replace(cell, notice(errorText(error), "error"));
          }
        },
      });
      return button;
    };
    return h("div", { id: "report-people" }, table([
      { label: t("col.person"), value: (p) => (p.person_id ? open(p) : "—") },
      { label: t("col.department"), value: (p) => p.unit_name || "" },
      { label: t("col.rule"), value: (p) => joinList(p.rules.map((r) => label("rule", r.rule, r.rule_zh))) },
      { label: t("col.lines"), value: (p) => count(p.lines), class: "num" },
      { label: t("col.amount"), value: (p) => money(p.amount), class: "num" },
      { label: t("col.bonus"), value: (p) => (Number(p.bonus_percent_pending) ? p.bonus_percent_pending + "%" : ""), class: "num" },
    ], report.people, { caption: `${t("reports.deductions")} ${month}`, empty: t("reports.none"), quiet: true }));
  }

  function linesTable(p, lines) {
    return table([
      { label: t("col.rule"), value: (x) => label("rule", x.rule) },
      { label: t("col.article"), value: (x) => x.article },
      { label: t("col.id"), value: (x) => (x.complaint_id ? complaintLink(x.complaint_id) : "") },
      { label: t("col.amount"), value: (x) => (x.amount ? money(x.amount) : `${x.bonus_percent}%`), class: "num" },
      { label: t("col.when"), value: (x) => fmtTime(x.charged_at) },
      { label: t("col.note"), value: (x) => (x.reverses ? `↩ ${x.reverses}` : x.reversed_by ? `↩ ${x.reversed_by}` : "") },
    ], lines, { caption: t("ca.lines", { name: p.name || p.person_id }), empty: t("reports.none") });
  }

  function fileButton(report, format) {
    return h("button", {
      type: "button", text: t("reports." + format),
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        bar.el.hidden = false;
        bar.set(null, t("reports.downloading"));
        try {
          await download(`/api/reports/monthly/${month}?format=${format}`,
            `deductions-${month}-r${report.revision}.${format}`,
            { onProgress: (f) => bar.set(f, t("reports.downloading")) });
          bar.set(1, t("download.done"));
        } catch (error) {
          bar.set(0, errorText(error));
        } finally {
          button.disabled = false;
        }
      },
    });
  }

  // penalty refuses a month that has not ended: the button waits, the notice says why
  function waiting() {
    return clock.now() < new Date(monthEnd(month));
  }

  function issueButton() {
    if (waiting()) {
      return h("button", { type: "button", class: "primary", text: t("reports.issue"), disabled: true,
        "aria-describedby": `issue-why-${month}` });
    }
    return h("button", {
      type: "button", class: "primary", text: t("reports.issue"),
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        bar.el.hidden = false;
        bar.set(null, t("reports.generating"));
        try {
          await post(`/api/reports/monthly/${month}/issue`);
          bar.el.hidden = true;
          await load();
        } catch (error) {
          bar.set(0, humanTimes(errorText(error)));
          button.disabled = false;
        }
      },
    });
  }

  await load();
  return h("div", {}, body, bar.el);
}
