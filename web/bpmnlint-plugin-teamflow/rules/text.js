// Rule messages in the page's language (English, or Chinese when the page is zh).
const ZH = {
  'has no candidate group, assignee or lane that maps to a known group': '没有候选组、处理人或对应已知组的泳道',
  'candidate group {group} is not a known group': '候选组 {group} 不是已知的组',
  'has no form fields (camunda:formData)': '没有表单字段（camunda:formData）',
  'timer has no duration, date or cycle': '定时器没有设置时长、日期或周期',
  'the ids Start and End are reserved by the engine': '编号 Start 和 End 由引擎保留，请改名',
  'service tasks must be external tasks (camunda:type "external" with a topic)': '服务任务必须是外部任务（camunda:type 为 "external" 并设置主题）',
  'business rule task has no camunda:decisionRef': '业务规则任务没有 camunda:decisionRef'
};

module.exports = function text(message, values) {
  const lang = typeof document !== 'undefined' ? document.documentElement.lang || '' : '';
  const template = lang.toLowerCase().startsWith('zh') ? (ZH[message] || message) : message;
  return template.replace(/{(\w+)}/g, (_, key) => String((values || {})[key]));
};
