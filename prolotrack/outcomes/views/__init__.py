"""Questionnaire and outcome pages, one module a screen: the patient's pages by link with no login (answer), the
staff's questionnaire pages of a patient (questionnaires), the instruments and their licensed texts (instruments), and
the patient's outcome trajectory with its charts (trajectory).

Thin: check, look up with outcomes.queries, call outcomes.services, shape with outcomes.present, render.
"""
