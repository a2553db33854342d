// The modeler's `translate` service in Chinese: the community translations (bpmn-js-i18n, zn.js) for the
// diagram, our own for the properties panel and for what the community leaves in English (translate-more.js).
// check-translations.mjs (run by the tests) fails when any string the bundle translates is not Chinese.
import communityZh from "bpmn-js-i18n/translations/zn.js";
import moreZh from "./translate-more.js";

const panelZh = {
  "General": "常规",
  "Name": "名称",
  "ID": "编号（ID）",
  "Documentation": "说明",
  "Element documentation": "元素说明",
  "Process documentation": "流程说明",
  "Process ID": "流程编号（ID）",
  "Process name": "流程名称",
  "Participant Name": "参与者名称",
  "Executable": "可执行",
  "Timer": "定时器",
  "Type": "类型",
  "Value": "值",
  "Date": "日期",
  "Duration": "持续时间",
  "Cycle": "循环",
  "<none>": "<无>",
  "Message": "消息",
  "Signal": "信号",
  "Error": "错误",
  "Escalation": "升级",
  "Link": "链接",
  "Compensation": "补偿",
  "Multi-instance": "多实例",
  "Loop cardinality": "循环次数",
  "Completion condition": "完成条件",
  "Create new ...": "新建……",
  "Select an element to edit its properties.": "选中一个元素以编辑其属性。",
  "Multiple elements are selected. Select a single element to edit its properties.":
    "选中了多个元素。请只选中一个元素以编辑其属性。",
  "ID must not be empty.": "编号不能为空。",
  "ID must be unique.": "编号必须唯一。",
  "ID must not contain spaces.": "编号不能包含空格。",
  "ID must be a valid QName.": "编号必须是合法的 QName。",
  "ID must not contain prefix.": "编号不能包含前缀。",
  "Condition": "条件",
  "Condition expression": "条件表达式",
  // diagram strings bpmn-js-i18n does not have yet
  "Change element": "更改元素类型",
  "Align elements": "对齐元素",
  "Distribute elements horizontally": "水平均匀分布",
  "Distribute elements vertically": "垂直均匀分布",
  "Toggle non-interrupting": "切换中断/非中断",
  // element types in the panel header
  "Collaboration": "协作",
  "Participant": "参与者（池）",
  "Process": "流程",
  "Lane": "泳道",
  "Task": "任务",
  "User Task": "用户任务",
  "Service Task": "服务任务",
  "Script Task": "脚本任务",
  "Manual Task": "手工任务",
  "Business Rule Task": "业务规则任务",
  "Send Task": "发送任务",
  "Receive Task": "接收任务",
  "Call Activity": "调用活动",
  "Collapsed Sub Process": "子流程（折叠）",
  "Expanded Sub Process": "子流程（展开）",
  "Event Sub Process": "事件子流程",
  "Exclusive Gateway": "排他网关",
  "Parallel Gateway": "并行网关",
  "Inclusive Gateway": "相容网关",
  "Event Based Gateway": "事件网关",
  "Complex Gateway": "复杂网关",
  "Start Event": "开始事件",
  "End Event": "结束事件",
  "Intermediate Throw Event": "中间抛出事件",
  "Intermediate Catch Event": "中间捕获事件",
  "Timer Start Event": "定时开始事件",
  "Timer Intermediate Catch Event": "定时中间捕获事件",
  "Timer Boundary Event": "定时边界事件",
  "Timer Boundary Event (Non Interrupting)": "定时边界事件（非中断）",
  "Message Start Event": "消息开始事件",
  "Message End Event": "消息结束事件",
  "Boundary Event": "边界事件",
  "Sequence Flow": "顺序流",
  "Conditional Flow": "条件顺序流",
  "Default Flow": "默认顺序流",
  "Message Flow": "消息流",
  "Association": "关联",
  "Text Annotation": "文本注释",
  "Group": "分组",
  "Data Object Reference": "数据对象",
  "Data Store Reference": "数据存储",
};

const translations = { ...communityZh, ...panelZh, ...moreZh };

export function translate(template, replacements) {
  replacements = replacements || {};
  const text = translations[template] || template;
  return text.replace(/{([^}]+)}/g, (_, key) => (key in replacements ? replacements[key] : `{${key}}`));
}

export default { translate: ["value", translate] };
