// A safety net under the `translate` service: some components of the properties panel are drawn without the
// translate function they should be given (the FEEL editor's "Open pop-up editor" button, for one) and fall
// back to English. Any tooltip, label or text under the modeler that is exactly one of the table's English
// templates is put into Chinese as it appears or changes.
const ATTRIBUTES = ["title", "aria-label", "placeholder"];
// Where text is the diagram's own (names on the canvas, the selected element's name in the panel's header).
const USER_TEXT = "svg, .bio-properties-panel-header-label, [contenteditable]";

export function localize(root, translate) {
  const fixText = (node) => {
    const text = node.nodeValue;
    const trimmed = text && text.trim();
    if (!trimmed || !/[A-Za-z]/.test(trimmed) || node.parentElement?.closest(USER_TEXT)) return;
    const chinese = translate(trimmed);
    if (chinese !== trimmed) node.nodeValue = text.replace(trimmed, chinese);
  };
  const fixElement = (element) => {
    if (element.closest(USER_TEXT)) return;
    for (const name of ATTRIBUTES) {
      const value = element.getAttribute(name);
      if (!value || !/[A-Za-z]/.test(value)) continue;
      const chinese = translate(value);
      if (chinese !== value) element.setAttribute(name, chinese);
    }
  };
  const fixTree = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return fixText(node);
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    fixElement(node);
    node.querySelectorAll(ATTRIBUTES.map((name) => `[${name}]`).join(",")).forEach(fixElement);
    const texts = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    while (texts.nextNode()) fixText(texts.currentNode);
  };
  fixTree(root);
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes") fixElement(record.target);
      else if (record.type === "characterData") fixText(record.target);
      else record.addedNodes.forEach(fixTree);
    }
  }).observe(root, { subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ATTRIBUTES });
}
