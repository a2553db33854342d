// The "本系统设置" group of the properties panel: for a user task its form and time limit (stored as
// spiffworkflow properties `form` and `time_limit_days`), for a lane the role (the lane's name is the
// role's Chinese label). Options come from the page config (forms registry, known roles).
import { h } from "@bpmn-io/properties-panel/preact";
import { SelectEntry, TextFieldEntry, isSelectEntryEdited, isTextFieldEntryEdited } from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

import { getSpiffProperty, listSpiffProperties, setSpiffProperty } from "./spiffProperties.js";

const OWN_PROPERTIES = new Set(["form", "time_limit_days"]);

export function roleForLaneName(roles, name) {
  const trimmed = (name || "").trim();
  return roles.find((r) => r.label === trimmed || r.code === trimmed);
}

function FormEntry({ element, id, forms }) {
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  return h(SelectEntry, {
    element,
    id,
    label: "表单",
    description: "办理此环节时填写的表单（forms/ 中登记的表单）",
    getValue: () => getSpiffProperty(element, "form") || "",
    setValue: (value) => setSpiffProperty(injector, element, "form", value),
    getOptions: () => {
      const current = getSpiffProperty(element, "form");
      const options = [{ value: "", label: "（未设置）" }];
      for (const form of forms) options.push({ value: form.key, label: `${form.title}（${form.key}）` });
      if (current && !forms.some((f) => f.key === current)) {
        options.push({ value: current, label: `${current}（未登记的表单）` });
      }
      return options;
    },
    validate: (value) => (value ? null : "用户任务必须指定表单"),
    debounce,
  });
}

/** The time limit in working days: a whole number 1–365 (as time_limit_problem in app/deadlines/policy.py), or empty
 *  for no limit. Invalid input is shown with its error and still written to the diagram as typed, so the server
 *  refuses it on 保存草稿 and 校验 naming the task, rather than the old value staying behind unseen. */
export function timeLimitError(value) {
  const text = value === undefined || value === null ? "" : String(value).trim();
  if (text === "") return null;
  if (!/^\d+$/.test(text)) return "请填写 1 到 365 之间的整数";
  const n = Number(text);
  return n >= 1 && n <= 365 ? null : "请填写 1 到 365 之间的整数";
}

function TimeLimitEntry({ element, id }) {
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  return h(TextFieldEntry, {
    element,
    id,
    label: "办理时限（工作日）",
    description: "1–365 个工作日；留空表示不限时",
    placeholder: "不限时",
    getValue: () => getSpiffProperty(element, "time_limit_days") || "",
    setValue: (value) => setSpiffProperty(injector, element, "time_limit_days", String(value ?? "").trim()),
    validate: timeLimitError,
    debounce,
  });
}

function OtherPropertiesEntry({ element, id }) {
  const debounce = useService("debounceInput");
  return h(TextFieldEntry, {
    element,
    id,
    label: "其他扩展属性（保持不变）",
    disabled: true,
    getValue: () =>
      listSpiffProperties(element)
        .filter((p) => !OWN_PROPERTIES.has(p.get("name")))
        .map((p) => `${p.get("name")}=${p.get("value") ?? ""}`)
        .join("；"),
    setValue: () => {},
    debounce,
  });
}

function RoleEntry({ element, id, roles }) {
  const modeling = useService("modeling");
  const debounce = useService("debounceInput");
  return h(SelectEntry, {
    element,
    id,
    label: "角色",
    description: "泳道即角色：此泳道中的任务由该角色办理",
    getValue: () => {
      const role = roleForLaneName(roles, getBusinessObject(element).get("name"));
      return role ? role.code : "";
    },
    setValue: (code) => {
      const role = roles.find((r) => r.code === code);
      if (role) modeling.updateProperties(element, { name: role.label });
    },
    getOptions: () => {
      const name = getBusinessObject(element).get("name");
      const options = [];
      if (!roleForLaneName(roles, name)) {
        options.push({ value: "", label: name ? `（未知角色：${name}）` : "（请选择角色）" });
      }
      for (const role of roles) options.push({ value: role.code, label: role.label });
      return options;
    },
    validate: (value) => (value ? null : "泳道必须是已知角色"),
    debounce,
  });
}

export default function RpmPropertiesProvider(propertiesPanel, config) {
  const forms = config.forms || [];
  const roles = config.roles || [];

  this.getGroups = function (element) {
    return function (groups) {
      let entries = null;
      if (is(element, "bpmn:UserTask")) {
        entries = [
          { id: "rpm-form", element, forms, component: FormEntry, isEdited: isSelectEntryEdited },
          { id: "rpm-time-limit", element, component: TimeLimitEntry, isEdited: isTextFieldEntryEdited },
        ];
        if (listSpiffProperties(element).some((p) => !OWN_PROPERTIES.has(p.get("name")))) {
          entries.push({ id: "rpm-other-properties", element, component: OtherPropertiesEntry });
        }
      } else if (is(element, "bpmn:Lane")) {
        entries = [{ id: "rpm-role", element, roles, component: RoleEntry, isEdited: isSelectEntryEdited }];
      }
      if (entries) {
        const group = { id: "rpm-settings", label: "本系统设置", entries, shouldOpen: true };
        const general = groups.findIndex((g) => g.id === "general");
        groups.splice(general + 1, 0, group);
      }
      return groups;
    };
  };

  propertiesPanel.registerProvider(500, this);
}

RpmPropertiesProvider.$inject = ["propertiesPanel", "config.rpm"];
