"""识别认定 under the national mechanism: a verified risk lead opens a case of the national procedure
(national_case.bpmn): 民主评议 with the monitoring category, 村内公示, 乡镇审核, 县级审定 and 结果公告, all within
15 days of the risk's discovery; on the fast path (先帮扶后认定) the village records the measures it gave at once."""
