"""Published sources as a patient document cites them: authors, title, journal, year (as the project's clinical notes
give them), never an internal file or section number. Used by the overclaim check and the patient handouts.
"""

RABAGO_2010 = (
    "Rabago D, Slattengren A, Zgierska A. Prolotherapy in primary care practice. Prim Care. 2010;37(1):65-80 "
    "(PMC2831229)"
)
RABAGO_2013 = (
    "Rabago D, Patterson JJ, Mundt M, et al. Dextrose prolotherapy for knee osteoarthritis: a randomized "
    "controlled trial. Ann Fam Med. 2013;11(3):229-237"
)
BAE_2021 = (
    "Bae G, Kim S, Lee S, Lee WY, Lim Y. Prolotherapy for the patients with chronic musculoskeletal pain: "
    "systematic review and meta-analysis. Anesth Pain Med. 2021"
)
DAGENAIS_2007 = (
    "Dagenais S, Yelland MJ, Del Mar C, Schoene ML. Prolotherapy injections for chronic low-back pain. "
    "Cochrane Database Syst Rev. 2007"
)
DAGENAIS_2006 = (
    "Dagenais S, Ogunseitan O, Haldeman S, Wooley JR, Newcomb RL. Side effects and adverse events related to "
    "intraligamentous injection of sclerosing solutions (prolotherapy) for back and neck pain: a survey of "
    "practitioners. Arch Phys Med Rehabil. 2006;87(7):909-913"
)
YELLAND_2011 = (
    "Yelland MJ, Sweeting KR, Lyftogt JA, et al. Prolotherapy injections and eccentric loading exercises for "
    "painful Achilles tendinosis: a randomised trial. Br J Sports Med. 2011;45(5):421-428"
)
BERTRAND_2016 = (
    "Bertrand H, Reeves KD, Bennett CJ, Bicknell S, Cheng AL. Dextrose prolotherapy versus control injections in "
    "painful rotator cuff tendinopathy. Arch Phys Med Rehabil. 2016;97(1):17-25"
)
ELBOW_2019 = "A randomised controlled trial of prolotherapy for lateral epicondylosis, 2019 (no difference at 52 weeks)"
ASRA_ESRA_2018 = (
    "Narouze S, Benzon HT, Provenzano D, et al. Interventional spine and pain procedures in patients on "
    "antiplatelet and anticoagulant medications (second edition). Reg Anesth Pain Med. 2018;43(3):225-262"
)
DORMAN_1993 = "Dorman TA. Prolotherapy: a survey. J Orthop Med. 1993"
CMS_NCD_150_7 = (
    "Centers for Medicare & Medicaid Services. National Coverage Determination 150.7: Prolotherapy, Joint "
    "Sclerotherapy, and Ligamentous Injections with Sclerosing Agents"
)
AETNA_0207 = "Aetna. Clinical Policy Bulletin 0207: Prolotherapy"
FTC_2022 = "Federal Trade Commission. Health Products Compliance Guidance. December 2022"
FDA_202 = (
    "FDA. 21 CFR 202.1(e)(6)(i): a drug may not be presented as safer or more effective than substantial evidence shows"
)
CLINIC_PRACTICE_NSAID = (
    "Clinic practice: clinics ask patients to stop NSAIDs from 2-3 days to 2 weeks before; no trial has shown that "
    "NSAIDs reduce the effect"
)
CLINIC_PRACTICE_MEAL = "Clinic practice: a light meal beforehand helps prevent feeling faint"
CLINIC_PRACTICE_SEDATION = "Clinic practice: after oral sedation medicine, an adult drives the patient home"
CLINIC_PRACTICE_AFTER = (
    "Clinic practice: advice on NSAIDs after the session (days to 12 weeks) and on ice or heat varies"
)
