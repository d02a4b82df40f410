"""Pure clinical logic for ProloTrack: standard library only, no Django, no I/O, no clock reads.

Modules:
    agents      injectable agents, concentration units and the shared value types
    mixing      C1V1 = C2V2 solution mixing and the content of a drawn volume
    anaesthetic maximum local anaesthetic doses and the per-session check
    screening   candidacy screening, findings and clinician overrides
    anatomy     the injection landmark catalogue
    protocols   trial protocol templates and course schedules
    scoring     outcome instruments, change from baseline and responders
    dates       calendar helpers (month arithmetic, ages)
    errors      DomainError and its subclasses
    sources     citation strings shared by the modules
"""
