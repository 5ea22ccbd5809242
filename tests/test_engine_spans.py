"""How the grounded engine cuts and reads its answers, on a corpus written here (real index, real model).

Each test pins one rule of span choice, question reading or arithmetic, with the answer's words, its
citations, own words and the trust rule checked by ``test_engine.check``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import corpus_bot
from test_engine import check

from bot.models import Answer

HARBOUR = """\
The monitoring group, the Coastal Observatory for Marine Safety, said the storm was the worst in a decade.
Nordline claims seven out of every 10 ferry bookings on the northern coast.
Captain Ada Lind has won 9 of her last 12 races in which the title was at stake.
9 P.M. (Channel 4) HARBOUR NIGHTS The crew of the Gull prepares for the winter season.
Like the Nordline collision in Dunmore, which injured eleven and delayed more than 300, the accident in Kells \
happened on a foggy stretch of water.
Tomas Brann leased his 40-acre sheep farm near the village of Oakmere to the regatta organisers.
The regatta did not take place in Harwick but in Ostby, about 20 miles away.
Friday marks the 30th anniversary of the Lantern Festival, which took place from August 2-4, 1995.
The Harbour Board is the port's governing body.
It was created in 1921 to replace the Old Pilots Guild (OPG), which had run the port for a century.
From 1998 to 2006 the Harbour Gazette and its website had separate owners.
The crew set up camp on Gorse Heath on 12 July.
They reached the summit of Mount Carrow on 29 July.
The Pilots Union sued the port again on Tuesday.
The Pilots Union won its first case against the port in 2001.
The group filed its first complaint on behalf of the pilots in 1993.
Jon Berg, 54, hosted three seasons of the show.
Alaska began paying the harbour dividend in 1982.
Brann's partners in the regatta were Ivo Sand and Pia Roos.
"Howdy, Captain Lind," said the harbour master, Olaf Dreyer, at the gate.
Talks on the Trans-Baltic Accord deadlocked two months ago.
Two trains a day run to Ostby in summer.
Olaf Dreyer keeps his boat at Oakmere, 30 miles north of Dunmore.
The Norwegian painter Eira Vold sketched the harbour in 1930.
The museum shows a film about World War I and the port.
Most new ferries use LNG engines, and Tern Engines supplied the engines for the Gull.
Ms. Hale, 34, lives in Ostby. She works as the finance director of the Harbour Board.
"""


def _turn(answer: Answer) -> list[dict]:
    """The chat history of one exchange, as the UI and the API pass it."""
    cited = [c.model_dump() for c in answer.citations]
    return [
        {"role": "user", "content": answer.question},
        {"role": "assistant", "content": answer.text, "citations": cited},
    ]


@pytest.fixture
def harbour_bot(tmp_path: Path, embeddings):
    return corpus_bot(tmp_path, embeddings, "harbour", HARBOUR)


def test_the_name_of_a_group_is_its_apposition_with_for_inside_it(harbour_bot) -> None:
    check(
        harbour_bot.ask("What is the name of the monitoring group?"), r"^Coastal Observatory for Marine Safety \[1\]\.$"
    )


def test_a_ratio_is_answered_whole(harbour_bot) -> None:
    check(harbour_bot.ask("How many ferry bookings does Nordline claim?"), r"^Seven out of every 10 \[1\]\.$")
    check(harbour_bot.ask("What is Ada Lind's record in her last 12 title races?"), r"^9 of her last 12 \[1\]\.$")


def test_a_clock_time_answers_what_time(harbour_bot) -> None:
    check(harbour_bot.ask('What time is "Harbour Nights" on?'), r"^9 P\.M\.? \[1\]\.$")


def test_a_relative_clause_after_a_place_belongs_to_the_event(harbour_bot) -> None:
    check(harbour_bot.ask("How many people were injured in the Nordline collision?"), r"^Eleven \[1\]\.$")


def test_what_kind_of_is_the_modifier_of_the_asked_noun(harbour_bot) -> None:
    check(harbour_bot.ask("What kind of farm did Tomas Brann lease?"), r"^40-acre sheep \[1\]\.$")


def test_take_place_is_no_place_and_where_keeps_its_preposition(harbour_bot) -> None:
    check(harbour_bot.ask("Where did the regatta take place?"), r"^In Ostby \[1\]\.$")


def test_a_written_date_beats_a_weekday_and_a_range_is_given_whole(harbour_bot) -> None:
    check(harbour_bot.ask("When did the Lantern Festival take place?"), r"^August 2-4, 1995 \[1\]\.$")
    a = harbour_bot.ask("When did the Harbour Gazette and its website have separate owners?")
    check(a, r"^From 1998 to 2006 \[1\]\.$")


def test_it_in_the_best_sentence_is_named_by_the_sentence_before(harbour_bot) -> None:
    a = harbour_bot.ask("What replaced the OPG?")
    check(a, r"^Harbour Board \[1\]\[2\]\.$")  # not "Old Pilots Guild": that is what "OPG" spells out
    assert "governing body" in a.citations[0].quote and "replace" in a.citations[1].quote


def test_days_between_dates_without_a_year(harbour_bot) -> None:
    a = harbour_bot.ask("How many days passed between the crew setting up camp on Gorse Heath and reaching the summit?")
    check(a, r"^17 days: 29 July − 12 July \[1\]\[2\]\.$")
    assert [t.name for t in a.tool_calls] == ["calculate"]


def test_a_sentence_that_refers_back_carries_the_name_before_it(harbour_bot) -> None:
    check(harbour_bot.ask("When did the Pilots Union file its first complaint?"), r"^1993 \[1\]\.$")


def test_a_greeting_is_nobody(harbour_bot) -> None:
    check(harbour_bot.ask("Who greeted Captain Lind?"), r"^Olaf Dreyer \[1\]\.$")


def test_half_of_a_hyphenated_name_is_not_a_typo(harbour_bot) -> None:
    a = harbour_bot.ask("How long have the talks on the trans Baltic accord been deadlocked?")
    check(a, r"^Two months \[1\]\.$")
    assert "trans Baltic" in a.resolved_question  # not "trains Baltic"


def test_a_place_measured_from_is_not_the_subject(harbour_bot) -> None:
    check(harbour_bot.ask("How far from Dunmore is the boat kept?"), r"^30 miles \[1\]\.$")


def test_a_nationality_is_a_demonym(harbour_bot) -> None:
    check(harbour_bot.ask("What is the nationality of Eira Vold?"), r"^Norwegian \[1\]\.$")


def test_a_roman_numeral_belongs_to_its_name(harbour_bot) -> None:
    check(harbour_bot.ask("What war is the museum's film about?"), r"^World War I \[1\]\.$")


def test_the_subject_of_the_asked_verb_answers_who_and_a_clause_is_nobody(harbour_bot) -> None:
    a = harbour_bot.ask("Who supplied the engines for the Gull?")
    check(a, r"^Tern Engines \[1\]\.$")  # a name may share a common noun with the question ("engines")


def test_an_occupation_is_what_someone_works_as(harbour_bot) -> None:
    a = harbour_bot.ask("What is Ms. Hale's occupation?")
    check(a, r"^Finance director of the Harbour Board \[1\]\.$")  # not her age, nor "lives"


def test_an_age_is_not_a_count_of_something_else(harbour_bot) -> None:
    check(harbour_bot.ask("How old is Jon Berg?"), r"^54 \[1\]\.$")


def test_a_demonym_names_its_place(harbour_bot) -> None:
    check(harbour_bot.ask("When did Alaskans begin to receive the harbour dividend?"), r"^1982 \[1\]\.$")


def test_a_follow_up_number_is_read_although_the_guessed_subject_is_not_its_subject(harbour_bot) -> None:
    first = harbour_bot.ask("What village was Tomas Brann's farm near?")
    check(first, r"Oakmere")
    check(harbour_bot.ask("How many acres was it?", _turn(first)), r"^40-acre \[1\]\.$")


def test_who_else_asks_again_without_the_previous_answer(harbour_bot) -> None:
    first = harbour_bot.ask("Who was Brann's partner in the regatta?")
    check(first, r"Ivo Sand|Pia Roos")
    again = harbour_bot.ask("Who else?", _turn(first))
    check(again, r"Ivo Sand|Pia Roos")
    assert again.text.split(" [")[0] not in first.text


@pytest.mark.parametrize(
    ("question", "atype", "head"),
    [
        ("What is Nordvik' car brand called?", "name", "brand"),  # a plural possessive owns the asked noun
        ("What is the name of the monitoring group?", "name", "group"),
        ("What is the name of the doctor?", "person", "doctor"),
        ("What types of jobs did the city lose?", "entity", "job"),  # a kind, not a list of names
    ],
)
def test_the_asked_noun_is_read_past_possessives_and_name_of(question: str, atype: str, head: str) -> None:
    from bot.engine.question import analyse

    q = analyse(question)
    assert (q.atype, q.head) == (atype, head)


def _top_candidate(question: str, sentence: str) -> str:
    import numpy as np

    from bot.engine.evidence import Sentence
    from bot.engine.extract import candidates
    from bot.engine.question import analyse
    from bot.sentences import SentenceRecord

    q = analyse(question)
    record = SentenceRecord(f"spans-{sentence}", "doc.txt", 0, len(sentence), sentence)  # parses are cached by id
    s = Sentence(record, np.zeros(3, dtype=np.float32), score=1.0)
    return candidates(q, [s])[0].text


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        # the question ends with "near": the answer is what stands after "near", not the flat's street
        ("What was Lena Vos's studio near?",
         "In 1990 the painter Lena Vos rented a studio on Mill Lane, near the old ropeworks.", "old ropeworks"),
        # with an asked noun, only an object of that kind answers: not "the Kingdom of Ardal" after "in"
        ("What county is Dunmore in?", "Dunmore is a town in the Kingdom of Ardal and the seat of Kells County.",
         "Kells County"),
    ],
)  # fmt: skip
def test_a_question_ending_in_a_preposition_asks_for_its_object(question: str, sentence: str, answer: str) -> None:
    assert _top_candidate(question, sentence).endswith(answer)


def test_the_noun_after_is_is_the_subject_when_the_question_ends_in_a_preposition() -> None:
    from bot.engine.question import analyse

    q = analyse("What is Mapplethorpe's apartment near?")
    assert (q.stranded, q.head) == ("near", None)  # "what" is the object of "near"; "apartment" is the subject
    q = analyse("What is the harbour's main export?")
    assert q.stranded is None and q.head == "export"
    assert analyse("What is the rest made of?").stranded is None


REGISTRY = """\
In 2009 the regulator took two of the 16 regional banks into receivership.
In 2010 five of the 12 harbour pilots did not join the strike.
In 2011 three of the 12 harbour pilots did not report for duty.
"""


def test_how_many_were_not_is_the_whole_less_the_part_the_sentence_counts(tmp_path: Path, embeddings) -> None:
    b = corpus_bot(tmp_path, embeddings, "registry", REGISTRY)
    a = b.ask("In 2009 how many regional banks were not taken into receivership?")
    check(a, r"^14: 16 regional banks − two \[1\]\.$")  # "two of the 16 were taken": 16 − 2 were not
    assert a.tool_calls[-1].args == {"expression": "16 - 2"}
    a = b.ask("In 2010 how many harbour pilots did not join the strike?")
    check(a, r"^Five of the 12 \[1\]\.$")  # the sentence already counts those who did not: no 12 − 5
    a = b.ask("In 2011 how many harbour pilots did not report for duty?")  # an event, not a figure left unsaid
    check(a, r"^Three of the 12 \[1\]\.$")
