// The quarterly systemic-issue analysis (Art. 42) on `/reports`: the
// departments it names (only those with a systemic problem) and why, each
// one's improvement measures (filed, pending, overdue after 15 days) for the
// centre, and the form where the head of a named department files them (the
// text and files: POST /api/analyses/<quarter>/measures). The reports page
// loads this module when its section comes into view (the page's script
// budget), and the uploader only for a head who has measures to file.
import { ApiError, get, post } from "./api.js";
import { label, lang } from "./i18n.js";
import {
  announce, badge, definitions, errorText, fmtTime, form, h, hasRole, notice, replace, table,
} from "./ui.js";

const WORDS = {
  zh: {
    notIssued: "本季度的系统性问题分析尚未出具：季度结束后的月初随月度结算自动出具。",
    issue: "出具分析", reissue: "重新出具（数据有变化时出新版）", issued: "第 {n} 版，出具于 {at}",
    criteria: "列入标准：同一类别投诉 {n} 宗及以上，或同一房号重复投诉超过 {m} 次（第四十二条）。",
    none: "本季度没有部门达到系统性问题的标准，无需报备优化措施。",
    named: "列入的部门", department: "部门", why: "列入原因", heads: "一把手", due: "报备期限",
    status: "状态", filedAt: "报备于 {at}（{who}）", late: "逾期报备",
    measures: "已报备的优化措施", noMeasures: "尚无部门报备。", attachments: "附件",
    attachment: "附件 {n}", open: "打开附件失败",
    file: "报备优化措施：{unit}", text: "优化措施（加强基础管理的整改方案）",
    textHint: "至少 10 个字；写明问题原因、整改措施、责任人和完成时间。",
    files: "附件（资料或照片，可选）", choose: "选择文件（PDF 或图片）", submit: "提交优化措施",
    saved: "已报备 {unit} 的优化措施，集团售后服务中心已收到。",
    yours: "您负责的部门被列入本季度分析，请于 {due} 前报备优化措施。",
    figures: "本季度数据", byCategory: "按类别和项目", repeatRooms: "重复投诉的房号",
    category: "类别", project: "项目", room: "房号", count: "次数",
  },
  en: {
    notIssued: "This quarter's analysis is not issued yet: it comes with the close of the quarter's last month.",
    issue: "Issue the analysis", reissue: "Issue again (a new revision if anything changed)", issued: "Revision {n}, issued {at}",
    criteria: "Named when: at least {n} complaints of one category, or a room complained about more than {m} times (Art. 42).",
    none: "No department meets the criteria this quarter: no measures are due.",
    named: "Departments named", department: "Department", why: "Why", heads: "Head", due: "Due",
    status: "Status", filedAt: "filed {at} ({who})", late: "filed late",
    measures: "Measures filed", noMeasures: "No department has filed yet.", attachments: "Attachments",
    attachment: "File {n}", open: "Could not open the file",
    file: "File the measures: {unit}", text: "Improvement measures",
    textHint: "At least 10 characters: causes, measures, who and by when.",
    files: "Attachments (material or photos, optional)", choose: "Choose files (PDF or images)", submit: "File the measures",
    saved: "{unit}'s measures are filed with the centre.",
    yours: "Your department is named in this quarter's analysis: file its measures by {due}.",
    figures: "The quarter's figures", byCategory: "By category and project", repeatRooms: "Rooms complained about again",
    category: "Category", project: "Project", room: "Room", count: "Count",
  },
}[lang];
const w = (key, vars = {}) => WORDS[key].replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
const ISSUERS = ["centre_gm", "admin"];
const STATUS_KIND = { filed: "state-closed", pending: "warn", overdue: "tier-3" };

// The analysis of `quarter` drawn into `box` (again after each step).
export async function fillAnalysis(box, me, quarter) {
  const draw = async (message) => replace(box, message ? notice(message, "ok") : null, await body(me, quarter, draw));
  await draw();
}

async function body(me, quarter, draw) {
  let analysis;
  try {
    analysis = await get(`/api/analyses/${quarter}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code !== "no_route") {
      return [notice(w("notIssued")), hasRole(me, ISSUERS) ? issueButton(quarter, draw) : null];
    }
    return notice(errorText(error), error instanceof ApiError && error.status === 409 ? "info" : "error");
  }
  const named = analysis.departments;
  const mine = named.filter((d) => analysis.may_file.includes(d.unit_id));
  const { mediaUploader } = mine.length ? await import("./media.js") : {};
  return [
    h("p", { class: "muted", text: w("issued", { n: analysis.revision, at: fmtTime(analysis.issued_at) }) }),
    h("p", { text: w("criteria", { n: analysis.criteria.category_min, m: analysis.criteria.repeat_room_above }) }),
    mine.map((d) => measuresForm(quarter, d, draw, mediaUploader)),
    named.length ? namedTable(named) : notice(w("none"), "ok"),
    named.length ? filedList(named) : null,
    hasRole(me, ISSUERS) ? h("div", { class: "buttons" }, issueButton(quarter, draw, w("reissue"))) : null,
    figures(analysis),
  ];
}

function statusBadge(d) {
  return badge(lang === "zh" ? d.measures.status_zh : d.measures.status, STATUS_KIND[d.measures.status] || "");
}

function namedTable(named) {
  return [h("h3", { text: w("named") }), table([
    { label: w("department"), value: (d) => d.unit_name },
    { label: w("why"), value: (d) => d.why },
    { label: w("heads"), value: (d) => d.heads.map((p) => p.name || p.person_id).join("、") || "–" },
    { label: w("due"), value: (d) => fmtTime(d.measures.due_at) },
    { label: w("status"), value: (d) => h("span", {}, statusBadge(d),
      d.measures.filed ? h("span", { class: "muted", text: ` ${w("filedAt", { at: fmtTime(d.measures.filed.filed_at), who: d.measures.filed.filed_by_name || d.measures.filed.filed_by })}` }) : null,
      d.measures.late ? [" ", badge(w("late"), "warn")] : null) },
  ], named, { caption: w("named"), quiet: true })];
}

// The measures' text and files (only those the reader may see come with text).
function filedList(named) {
  const filed = named.filter((d) => d.measures.filed && d.measures.filed.text !== null);
  if (!filed.length) return null;
  return h("div", { class: "measures" }, h("h3", { text: w("measures") }), filed.map((d) => h("article", { class: "card" },
    h("h4", {}, d.unit_name, " ", statusBadge(d)),
    definitions([[w("status"), w("filedAt", { at: fmtTime(d.measures.filed.filed_at), who: d.measures.filed.filed_by_name || d.measures.filed.filed_by })]]),
    h("p", { class: "note", text: d.measures.filed.text }),
    d.measures.filed.media_ids.length ? h("p", {}, `${w("attachments")}: `,
      d.measures.filed.media_ids.map((id, i) => [i ? " · " : "", attachmentLink(id, i + 1)])) : null)));
}

function attachmentLink(id, n) {
  return h("a", {
    href: "#", text: w("attachment", { n }),
    async onclick(event) {
      event.preventDefault();
      const opened = window.open("", "_blank");
      try {
        const media = await get(`/api/media/${encodeURIComponent(id)}`);
        if (opened) opened.location = media.url; else location.assign(media.url);
      } catch (error) {
        opened?.close();
        event.target.after(notice(`${w("open")}: ${errorText(error)}`, "error"));
      }
    },
  });
}

function measuresForm(quarter, d, draw, mediaUploader) {
  const files = mediaUploader({ label: w("files"), name: "media_ids", kind: "material", capture: false,
    accept: "image/*,application/pdf", chooseLabel: w("choose") });
  return h("section", { class: "card measures-form", "aria-label": w("file", { unit: d.unit_name }) },
    h("h3", { text: w("file", { unit: d.unit_name }) }),
    notice(w("yours", { due: fmtTime(d.measures.due_at) }), d.measures.status === "overdue" ? "error" : "info"),
    h("p", {}, h("strong", { text: `${w("why")}：` }), d.why),
    form({
      fields: [{ name: "text", label: w("text"), type: "textarea", rows: 6, required: true, max: 8000, hint: w("textHint") }],
      extra: [files.element], submitText: w("submit"),
      async submit(values) {
        await post(`/api/analyses/${quarter}/measures`, { unit_id: d.unit_id, text: values.text, media_ids: await files.ids() });
        const message = w("saved", { unit: d.unit_name });
        announce(message);
        await draw(message);
      },
    }));
}

function issueButton(quarter, draw, text = w("issue")) {
  const button = h("button", {
    type: "button", text,
    async onclick() {
      button.disabled = true;
      try {
        await post(`/api/analyses/${quarter}/issue`);
        await draw();
      } catch (error) {
        button.disabled = false;
        button.after(notice(errorText(error), "error"));
      }
    },
  });
  return button;
}

function figures(analysis) {
  return h("details", { class: "typed" }, h("summary", { text: w("figures") }),
    table([
      { label: w("category"), value: (r) => label("category", r.category) || "–" },
      { label: w("project"), value: (r) => r.project_id },
      { label: w("count"), value: (r) => String(r.count), class: "num" },
    ], analysis.by_category_project, { caption: w("byCategory"), empty: "–" }),
    table([
      { label: w("project"), value: (r) => r.project_id },
      { label: w("room"), value: (r) => r.room || "–" },
      { label: w("count"), value: (r) => String(r.count), class: "num" },
    ], analysis.repeat_rooms, { caption: w("repeatRooms"), empty: "–" }));
}
