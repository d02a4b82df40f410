"""Treatment pages, one module a screen: the chart cards (chart), courses, booking, the calendar, the session record
(session), its solutions and injection sites (sites), adverse events, and the body-map previews (maps).

Thin: check the role's permission, look records up inside request.clinic with treatment.queries (another clinic's
record is a 404), call treatment.services, shape with treatment.present, render. A service refusal (ValidationError or
ServiceError) is shown next to the field it is about and writes nothing. Forms are plain HTML forms; the site form and
the checklist also answer HTMX requests with the parts of the page that change, so the map, the site list and the
running totals update without a reload.
"""
