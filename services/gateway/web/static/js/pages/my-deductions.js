// `/my/deductions` (我的扣罚): anyone's own ledger lines (GET /api/deductions?person_id=me)
// with the rule, the regulation's article, the complaint and what the charge rests on;
// an appeal form under each line that can be appealed (POST /api/deductions/{id}/appeal)
// and each appeal's status (GET /api/appeals?person_id=me).
import { get, post } from "../api.js";
import { hasWord, label, t } from "../i18n.js";
import {
  badge, complaintLink, definitions, failPage, fill, fmtDuration, fmtTime, h, notice, section, start,
} from "../ui.js";
import { form, missing } from "../forms.js";

// "1234567.5" -> "1,234,567.50": the exact decimal the API gives, grouped, never a float.
export function money(text) {
  const [whole, fraction = ""] = String(text).replace(/^-/, "").split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${String(text).startsWith("-") ? "−" : ""}¥${grouped}.${(fraction + "00").slice(0, 2)}`;
}

function articles(text) {
  return text ? t("mine.article.n", { n: String(text).replace(/,\s*/g, t("mine.article.sep")) }) : "";
}

function evidence(line) {
  const e = line.evidence || {};
  const pairs = [];
  if (e.due_at) pairs.push([t("mine.due"), fmtTime(e.due_at)]);
  if ("done_at" in e && line.rule) pairs.push([t("mine.done"), e.done_at ? fmtTime(e.done_at) : t("mine.notdone")]);
  if (e.late_seconds) pairs.push([t("mine.late"), fmtDuration(e.late_seconds * 1000)]);
  if (e.blocks && e.per_block) pairs.push([t("mine.evidence"), t("mine.blocks", { n: e.blocks, per: money(e.per_block).slice(1) })]);
  if (e.day) pairs.push([t("mine.day"), e.day]);
  if (line.reverses && e.reason) {
    const key = `mine.reason.${e.reason}`;
    pairs.push([t("mine.reason"), hasWord(key) ? t(key) : t("mine.reversal")]);
  }
  return pairs;
}

function amountText(line) {
  if (line.amount !== null && line.amount !== undefined) return money(line.amount);
  if (line.bonus_percent !== null && line.bonus_percent !== undefined) return t("mine.bonus", { p: line.bonus_percent });
  return "";
}

function appealStatus(appeal) {
  const at = appeal.decided_at ? t("mine.appeal.decided", { at: fmtTime(appeal.decided_at) })
    : t("mine.appeal.filed", { at: fmtTime(appeal.filed_at) });
  return h("div", { class: "appeal-status", dataset: { status: appeal.status } },
    h("p", {}, h("strong", { text: t("mine.appeal.status") + "：" }),
      badge(t("appeal." + appeal.status), "appeal-" + appeal.status), " ", h("span", { class: "muted", text: at })),
    h("p", { class: "appeal-reason", text: appeal.reason }),
    appeal.decision_reason ? h("p", {}, h("strong", { text: t("mine.appeal.decision_reason") + "：" }), appeal.decision_reason) : null);
}

function appealForm(line, holder) {
  const fields = [{ name: "reason", label: t("mine.appeal.reason"), type: "textarea", required: true, rows: 3, max: 2000, hint: t("mine.appeal.hint") }];
  const el = form({
    fields, submitText: t("mine.appeal.send"),
    check: (values) => {
      const found = missing(fields, values);
      if (values.reason && values.reason.trim().length < 2) found.reason = [{ code: "too_short", params: { min: 2 } }];
      return found;
    },
    async submit(values) {
      const appeal = await post(`/api/deductions/${encodeURIComponent(line.id)}/appeal`, { reason: values.reason });
      holder.replaceChildren(notice(t("mine.appeal.sent"), "ok"), appealStatus(appeal));
      holder.querySelector(".notice").focus?.();
    },
  });
  return h("details", { class: "action" }, h("summary", { text: t("mine.appeal") }), el);
}

function lineCard(line, appeal) {
  const reversal = Boolean(line.reverses);
  const reversed = Boolean(line.reversed_by);
  const holder = h("div", { class: "appeal" });
  if (appeal) holder.append(appealStatus(appeal));
  else if (reversal || reversed) holder.append(h("p", { class: "muted", text: t("mine.appeal.none") }));
  else holder.append(appealForm(line, holder));
  return h("article", { class: "card deduction", dataset: { id: line.id } },
    h("h2", {}, amountText(line), " ",
      reversal ? badge(t("mine.reversal")) : null, reversed ? badge(t("mine.reversed")) : null),
    definitions([
      [t("mine.rule"), label("rule", line.rule)],
      [t("mine.article"), articles(line.article)],
      [t("mine.complaint"), line.complaint_id ? complaintLink(line.complaint_id) : ""],
      [t("mine.month"), line.month],
      [t("mine.charged"), fmtTime(line.charged_at)],
      ...evidence(line),
    ]),
    holder);
}

start().then(async (me) => {
  const [lines, appeals] = await Promise.all([
    get("/api/deductions", { person_id: "me", limit: 1000 }),
    get("/api/appeals", { person_id: "me", limit: 100 }),
  ]);
  const byLine = new Map(appeals.items.map((a) => [a.deduction_id, a]));
  fill(
    h("h1", { text: t("mine.title") }),
    h("p", { class: "hint", text: t("mine.intro") }),
    lines.items.length
      ? [h("p", { class: "muted", text: t("mine.total", { n: lines.total }) }),
        lines.items.map((line) => lineCard(line, byLine.get(line.id)))]
      : section(t("mine.title"), h("p", { class: "muted", text: t("mine.none") })));
  document.title = `${t("mine.title")} · ${me.name}`;
}).catch(failPage);
