# flake8: noqa
# import models into model package
from platform_users_gen.models.audit_record import AuditRecord
from platform_users_gen.models.client_credentials import ClientCredentials
from platform_users_gen.models.identity import Identity
from platform_users_gen.models.new_ssh_key import NewSshKey
from platform_users_gen.models.new_user import NewUser
from platform_users_gen.models.person_role import PersonRole
from platform_users_gen.models.problem_details import ProblemDetails
from platform_users_gen.models.role import Role
from platform_users_gen.models.ssh_key import SshKey
from platform_users_gen.models.user import User
from platform_users_gen.models.user_change import UserChange
