from privacy.models.matchers import PiiMatcher

__all__ = ["PiiMatcher"]
