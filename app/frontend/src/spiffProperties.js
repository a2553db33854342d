// Reading and writing <spiffworkflow:property name="…" value="…"/> inside an element's
// <bpmn:extensionElements><spiffworkflow:properties>. Writes go through the command stack as one
// multi-command, so each change is a single undo step; other properties (e.g. `phase`) are left as they are.
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

const CONTAINER = "spiffworkflow:properties";
const PROPERTY = "spiffworkflow:property";

function containerOf(businessObject) {
  const values = businessObject.extensionElements?.get("values") || [];
  return values.find((value) => is(value, CONTAINER));
}

export function listSpiffProperties(element) {
  const container = containerOf(getBusinessObject(element));
  return container ? container.get("properties") : [];
}

export function getSpiffProperty(element, name) {
  const property = listSpiffProperties(element).find((p) => p.get("name") === name);
  return property ? property.get("value") : undefined;
}

/** Set (or, with an empty value, remove) one spiffworkflow property of `element` as one undoable command. */
export function setSpiffProperty(injector, element, name, value) {
  const bpmnFactory = injector.get("bpmnFactory");
  const commandStack = injector.get("commandStack");
  const businessObject = getBusinessObject(element);
  const empty = value === undefined || value === null || value === "";
  const commands = [];
  const update = (moddleElement, properties) =>
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement, properties } });

  let extensionElements = businessObject.extensionElements;
  let container = containerOf(businessObject);
  const existing = container?.get("properties").find((p) => p.get("name") === name);

  if (empty) {
    if (!existing) return;
    const remaining = container.get("properties").filter((p) => p !== existing);
    if (remaining.length) {
      update(container, { properties: remaining });
    } else {
      update(extensionElements, { values: extensionElements.get("values").filter((v) => v !== container) });
    }
  } else if (existing) {
    if (existing.get("value") === String(value)) return;
    update(existing, { value: String(value) });
  } else {
    if (!extensionElements) {
      extensionElements = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
      extensionElements.$parent = businessObject;
      update(businessObject, { extensionElements });
    }
    if (!container) {
      container = bpmnFactory.create(CONTAINER, { properties: [] });
      container.$parent = extensionElements;
      update(extensionElements, { values: [...extensionElements.get("values"), container] });
    }
    const property = bpmnFactory.create(PROPERTY, { name, value: String(value) });
    property.$parent = container;
    update(container, { properties: [...container.get("properties"), property] });
  }
  commandStack.execute("properties-panel.multi-command-executor", commands);
}
