"""Rubric loading/validation and scoring."""
from grader.scoring.rubric import Rubric, RubricError, RubricItem, load_rubric
from grader.scoring.score import score_all

__all__ = ["Rubric", "RubricError", "RubricItem", "load_rubric", "score_all"]
