"""The privacy UI's forms, by subject: ``matchers`` (custom PII matchers and the
test panel) and ``fields`` (classifying Inbox and Inventory fields). They parse
input; the services validate. The names the views use are exported here."""

from privacy.forms.fields import ClassifyForm, ReclassifyForm
from privacy.forms.matchers import MatcherForm, SampleEventForm

__all__ = ["ClassifyForm", "MatcherForm", "ReclassifyForm", "SampleEventForm"]
