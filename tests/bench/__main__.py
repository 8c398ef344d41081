"""`make bench`: every benchmark prints its figures next to a baseline measured in the same run."""

from tests.bench import (
    audience_filter,
    audience_split,
    audit,
    cold_start,
    consent,
    end_to_end,
    export,
    forget,
    repermission,
)

if __name__ == "__main__":
    cold_start.main()
    end_to_end.main()
    forget.main()
    export.main()
    audit.main()
    audience_filter.main()
    consent.main()
    audience_split.main()
    repermission.main()
