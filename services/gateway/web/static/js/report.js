// The monthly deductions report (Art. 36, SPEC §5): totals, people, and the
// CSV and XLSX files with download progress; issuing it (GM, admin) shows
// progress while penalty cuts the month and renders the files.
import { ApiError, download, get, post } from "./api.js";
import { t } from "./i18n.js";
import { errorText, fmtTime, h, hasRole, notice, progress, replace, table } from "./ui.js";

const ISSUERS = ["centre_gm", "admin"];

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
      if (error instanceof ApiError && [404, 409].includes(error.status) && error.code !== "no_route") {
        body.replaceChildren(notice(error.status === 404 ? t("reports.notissued") : errorText(error)));
      } else {
        body.replaceChildren(notice(errorText(error), "error"));
      }
      if (hasRole(me, ISSUERS)) body.append(issueButton());
      return;
    }
    replace(body, [
      h("p", { class: "muted", text: t("reports.revision", { n: report.revision, at: fmtTime(report.issued_at) }) }),
      h("p", { class: "totals" },
        h("strong", { class: "amount", text: `¥${report.totals.amount}` }),
        ` · ${report.totals.people} · ${report.line_count} ${t("col.lines")}`),
      h("div", { class: "buttons" }, fileButton(report, "csv"), fileButton(report, "xlsx"),
        hasRole(me, ISSUERS) ? issueButton() : null),
      full ? table([
        { label: t("col.person"), value: (p) => p.name || p.person_id || "—" },
        { label: t("col.department"), value: (p) => p.unit_name || "" },
        { label: t("col.rule"), value: (p) => p.rules.map((r) => r.rule_zh || r.rule).join("、") },
        { label: t("col.lines"), value: (p) => String(p.lines), class: "num" },
        { label: t("col.amount"), value: (p) => p.amount, class: "num" },
        { label: t("col.bonus"), value: (p) => (Number(p.bonus_percent_pending) ? p.bonus_percent_pending + "%" : ""), class: "num" },
      ], report.people, { caption: `${t("reports.deductions")} ${month}`, empty: t("reports.none"), quiet: true }) : null,
    ]);
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

  function issueButton() {
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
          bar.set(0, errorText(error));
          button.disabled = false;
        }
      },
    });
  }

  await load();
  return h("div", {}, body, bar.el);
}
