// The quarterly systemic-issue analysis (Art. 42) on /reports: the departments
// it names and why, each one's measures (filed, pending, overdue after 15
// days), and the form where a named department's head files them. Loaded by
// the reports page when its section comes into view.
import { ApiError, get, post, upload } from "./api.js";
import { joinList, lang, t } from "./i18n.js";
import { humanTimes } from "./report.js";
import { announce, badge, errorText, fmtTime, h, hasRole, notice, replace, table } from "./ui.js";
import { form } from "./forms.js";

const WORDS = {
  zh: {
    notIssued: "本季度的系统性问题分析尚未出具：季度结束后的月初随月度结算自动出具。",
    issue: "出具分析", reissue: "重新出具（数据有变化时出新版）", issued: "第 {n} 版，出具于 {at}",
    criteria: "列入标准：同一类别投诉 {n} 宗及以上，或同一房号重复投诉超过 {m} 次（第四十二条）。",
    none: "本季度没有部门达到系统性问题的标准，无需报备优化措施。",
    named: "列入的部门", department: "部门", why: "列入原因", heads: "一把手", due: "报备期限",
    status: "状态", filedAt: "报备于 {at}（{who}）", late: "逾期报备", measures: "已报备的优化措施",
    attachment: "附件 {n}", file: "报备优化措施：{unit}", text: "优化措施（加强基础管理的整改方案）",
    hint: "至少 10 个字；写明问题原因、整改措施、责任人和完成时间。",
    files: "附件（PDF 或图片，可选）", submit: "提交优化措施",
    saved: "已报备 {unit} 的优化措施，集团售后服务中心已收到。",
    yours: "您负责的部门被列入本季度分析，请于 {due} 前报备优化措施。",
  },
  en: {
    notIssued: "This quarter's analysis is not issued yet: it comes with the close of the quarter's last month.",
    issue: "Issue the analysis", reissue: "Issue again (a new revision if anything changed)", issued: "Revision {n}, issued {at}",
    criteria: "Named when: at least {n} complaints of one category, or a room complained about more than {m} times (Art. 42).",
    none: "No department meets the criteria this quarter: no measures are due.",
    named: "Departments named", department: "Department", why: "Why", heads: "Head", due: "Due",
    status: "Status", filedAt: "filed {at} ({who})", late: "filed late", measures: "Measures filed",
    attachment: "File {n}", file: "File the measures: {unit}", text: "Improvement measures",
    hint: "At least 10 characters: causes, measures, who and by when.",
    files: "Attachments (PDF or images, optional)", submit: "File the measures",
    saved: "{unit}'s measures are filed with the centre.",
    yours: "Your department is named in this quarter's analysis: file its measures by {due}.",
  },
}[lang];
const w = (key, vars = {}) => WORDS[key].replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
const KIND = { filed: "state-closed", pending: "warn", overdue: "tier-3" };

// The analysis of `quarter` drawn into `box` (again after each step).
export async function fillAnalysis(box, me, quarter) {
  const draw = async (message) => replace(box, message ? notice(message, "ok") : null, await body(me, quarter, draw));
  await draw();
}

async function body(me, quarter, draw) {
  const issuer = hasRole(me, "centre_gm", "admin");
  let a;
  try {
    a = await get(`/api/analyses/${quarter}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code !== "no_route") {
      return [notice(w("notIssued")), issuer ? issueButton(quarter, draw, w("issue")) : null];
    }
    return notice(errorText(error), "error");
  }
  const named = a.departments;
  return [
    h("p", { class: "muted", text: w("issued", { n: a.revision, at: fmtTime(a.issued_at) }) }),
    h("p", { text: w("criteria", { n: a.criteria.category_min, m: a.criteria.repeat_room_above }) }),
    named.filter((d) => a.may_file.includes(d.unit_id)).map((d) => measuresForm(quarter, d, draw)),
    named.length ? [h("h3", { text: w("named") }), table([
      { label: w("department"), value: (d) => d.unit_name },
      { label: w("why"), value: (d) => d.why },
      { label: w("heads"), value: (d) => joinList(d.heads.map((p) => p.name || p.person_id)) || "–" },
      { label: w("due"), value: (d) => fmtTime(d.measures.due_at) },
      { label: w("status"), value: (d) => h("span", {}, status(d), d.measures.filed ? h("span", { class: "muted", text: ` ${filedAt(d)}` }) : null,
        d.measures.late ? [" ", badge(w("late"), "warn")] : null) },
    ], named, { caption: w("named"), quiet: true })] : notice(w("none"), "ok"),
    filedList(named),
    issuer ? h("div", { class: "buttons" }, issueButton(quarter, draw, w("reissue"))) : null,
  ];
}

const status = (d) => badge(lang === "zh" ? d.measures.status_zh : d.measures.status, KIND[d.measures.status]);
const filedAt = (d) => w("filedAt", { at: fmtTime(d.measures.filed.filed_at), who: d.measures.filed.filed_by_name || d.measures.filed.filed_by });

// The measures' text and files (the API gives them to the centre and the department).
function filedList(named) {
  const filed = named.filter((d) => d.measures.filed?.text);
  return filed.length ? [h("h3", { text: w("measures") }), filed.map((d) => h("article", { class: "card" },
    h("h4", {}, d.unit_name, " ", status(d)), h("p", { class: "muted", text: filedAt(d) }),
    h("p", { class: "note", text: d.measures.filed.text }),
    h("p", {}, d.measures.filed.media_ids.map((id, i) => [i ? " · " : "", h("a", {
      href: "#", text: w("attachment", { n: i + 1 }),
      async onclick(event) {
        event.preventDefault();
        try {
          location.assign((await get(`/api/media/${encodeURIComponent(id)}`)).url);
        } catch (error) {
          event.target.after(notice(errorText(error), "error"));
        }
      },
    })]))))] : null;
}

// Files go up as soon as they are chosen; the form sends their ids.
function uploader() {
  const ids = [], pending = [];
  const list = h("ul", { class: "uploads", "aria-live": "polite" });
  const input = h("input", { type: "file", id: "measures-files", multiple: true, accept: "image/*,application/pdf", class: "file" });
  input.addEventListener("change", () => {
    for (const file of input.files) {
      const item = h("li", { text: file.name });
      list.append(item);
      pending.push(upload("/api/media", file, file.name, { kind: "material" })
        .then((media) => { ids.push(media.id); item.append(` · ${t("upload.done")}`); })
        .catch((error) => item.append(` · ${t("upload.failed")}: ${errorText(error)}`)));
    }
    input.value = "";
  });
  return { element: h("div", { class: "field" }, h("label", { for: input.id, text: w("files") }), input, list),
    ids: async () => { await Promise.all(pending); return ids; } };
}

function measuresForm(quarter, d, draw) {
  const files = uploader();
  return h("section", { class: "card", "aria-label": w("file", { unit: d.unit_name }) },
    h("h3", { text: w("file", { unit: d.unit_name }) }),
    notice(w("yours", { due: fmtTime(d.measures.due_at) }), d.measures.status === "overdue" ? "error" : "info"),
    h("p", {}, h("strong", { text: `${w("why")}：` }), d.why),
    form({
      fields: [{ name: "text", label: w("text"), type: "textarea", rows: 6, required: true, max: 8000, hint: w("hint") }],
      extra: [files.element], submitText: w("submit"),
      async submit(values) {
        await post(`/api/analyses/${quarter}/measures`, { unit_id: d.unit_id, text: values.text, media_ids: await files.ids() });
        announce(w("saved", { unit: d.unit_name }));
        await draw(w("saved", { unit: d.unit_name }));
      },
    }));
}

function issueButton(quarter, draw, text) {
  const button = h("button", {
    type: "button", text,
    async onclick() {
      button.disabled = true;
      try {
        await post(`/api/analyses/${quarter}/issue`);
        await draw();
      } catch (error) {
        button.disabled = false;
        button.after(notice(humanTimes(errorText(error)), "error"));
      }
    },
  });
  return button;
}
