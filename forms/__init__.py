"""The registry of task forms: a user task names its form by key (<spiffworkflow:property name="form">)."""

from wtforms.fields.core import UnboundField

from forms.assistance import CountyFilingForm, MeasuresExecutionForm, MeasuresPlanForm
from forms.base import FormContext, TaskForm
from forms.certification import (
    CountyApprovalForm,
    SupplementInformationForm,
    TownCertificationForm,
    TownLeadershipReviewForm,
)
from forms.closure import ClosureApplicationForm, CountyRecheckForm, TownAcceptanceForm
from forms.elimination import (
    CountyEliminationForm,
    EliminationCheckForm,
    EliminationReviewForm,
    TownEliminationReviewForm,
)
from forms.identification import (
    CountyIdentificationForm,
    FirstAidForm,
    IdentificationReviewForm,
    TownIdentificationReviewForm,
)
from forms.leads import IncomeAssessmentForm, LeadVerificationForm
from forms.publicity import NoticePostingForm, ObjectionRecordForm, ObjectionReviewForm
from forms.screening import AssessmentForm, ScreeningForm

REGISTRY: dict[str, type[TaskForm]] = {
    "screening": ScreeningForm,
    "assessment": AssessmentForm,
    "town_certification": TownCertificationForm,
    "supplement_information": SupplementInformationForm,
    "town_leadership_review": TownLeadershipReviewForm,
    "county_approval": CountyApprovalForm,
    "notice_posting": NoticePostingForm,
    "objection_record": ObjectionRecordForm,
    "objection_review": ObjectionReviewForm,
    "measures_plan": MeasuresPlanForm,
    "county_filing": CountyFilingForm,
    "measures_execution": MeasuresExecutionForm,
    "closure_application": ClosureApplicationForm,
    "town_acceptance": TownAcceptanceForm,
    "county_recheck": CountyRecheckForm,
    "lead_verification": LeadVerificationForm,
    "income_assessment": IncomeAssessmentForm,
    "identification_review": IdentificationReviewForm,
    "town_identification_review": TownIdentificationReviewForm,
    "county_identification": CountyIdentificationForm,
    "first_aid_measures": FirstAidForm,
    "elimination_check": EliminationCheckForm,
    "elimination_review": EliminationReviewForm,
    "town_elimination_review": TownEliminationReviewForm,
    "county_elimination": CountyEliminationForm,
}


def form_class(key: str) -> type[TaskForm]:
    try:
        return REGISTRY[key]
    except KeyError:
        raise KeyError(f"no task form registered as {key!r}") from None


def field_names(key: str) -> set[str]:
    """The task-data keys a form writes (what gateway conditions may read)."""
    cls = REGISTRY[key]
    names = {name for name in dir(cls) if isinstance(getattr(cls, name, None), UnboundField)}
    if key == "notice_posting":
        names |= {"notice_ends_at", "notice_kind"}
    return names


__all__ = ["REGISTRY", "FormContext", "TaskForm", "field_names", "form_class"]
