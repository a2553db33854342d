"""Rules a county sets and changes: time limits and numbers of months (CountySetting) and the yearly monitoring
line (MonitoringLine). Data with history, edited by the county office in the app, never constants in code."""

from app.settings.operations import (
    RULES,
    SettingRule,
    current_value,
    line_for,
    line_history,
    record_line,
    record_setting,
    setting_choice,
    setting_history,
    setting_value,
)

__all__ = [
    "RULES",
    "SettingRule",
    "current_value",
    "line_for",
    "line_history",
    "record_line",
    "record_setting",
    "setting_choice",
    "setting_history",
    "setting_value",
]
