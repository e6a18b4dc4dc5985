# flake8: noqa
# import models into model package
from platform_oauth2_gen.models.challenge import Challenge
from platform_oauth2_gen.models.challenge_request import ChallengeRequest
from platform_oauth2_gen.models.jwk_set import JwkSet
from platform_oauth2_gen.models.jwk_set_keys_inner import JwkSetKeysInner
from platform_oauth2_gen.models.o_auth_problem import OAuthProblem
from platform_oauth2_gen.models.token_response import TokenResponse
