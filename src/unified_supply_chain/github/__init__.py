"""GitHub API edges: client set-up, check runs, PR comments and dependency submission.

`from unified_supply_chain.github.client import make_github, github_env` is the entry point;
nothing here imports PyGithub at module import time.
"""

from __future__ import annotations

from unified_supply_chain.github.client import (
    GitHubApiError,
    GitHubEnv,
    GitHubPermissionError,
    PullRequestInfo,
    github_env,
    make_github,
)

__all__ = [
    "GitHubApiError",
    "GitHubEnv",
    "GitHubPermissionError",
    "PullRequestInfo",
    "github_env",
    "make_github",
]
