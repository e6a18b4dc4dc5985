import flask
from typing import Dict
from typing import Tuple
from typing import Union

from mec010_2_app_pkgm_gen.models.app_d import AppD  # noqa: E501
from mec010_2_app_pkgm_gen.models.app_pkg_info import AppPkgInfo  # noqa: E501
from mec010_2_app_pkgm_gen.models.app_pkg_info_modifications import AppPkgInfoModifications  # noqa: E501
from mec010_2_app_pkgm_gen.models.app_pkg_subscription import AppPkgSubscription  # noqa: E501
from mec010_2_app_pkgm_gen.models.app_pkg_subscription_info import AppPkgSubscriptionInfo  # noqa: E501
from mec010_2_app_pkgm_gen.models.app_pkg_subscription_link_list import AppPkgSubscriptionLinkList  # noqa: E501
from mec010_2_app_pkgm_gen.models.create_app_pkg import CreateAppPkg  # noqa: E501
from mec010_2_app_pkgm_gen.models.problem_details import ProblemDetails  # noqa: E501
from mec010_2_app_pkgm_gen import util


def onboardedapppackages_appd_get_appdid(app_did, filter=None, all_fields=None, fields=None, exclude_fields=None, exclude_default=None):  # noqa: E501
    """Read the application descriptor of a package

    Returns the AppD (&#x60;appd.json&#x60;) of an onboarded package as JSON. &#x60;409&#x60; while the package is not &#x60;ONBOARDED&#x60;. &#x60;all_fields&#x60;, &#x60;fields&#x60;, &#x60;exclude_fields&#x60; and &#x60;exclude_default&#x60; select the complex attributes of the AppD that are included (ETSI GS MEC 009 clause 6.18).  # noqa: E501

    :param app_did: The package: its &#x60;appDId&#x60; once it is onboarded, or its package &#x60;id&#x60; (the &#x60;id&#x60; returned when it was created) at any time. Before onboarding only the &#x60;id&#x60; works.
    :type app_did: str
    :param filter: Attribute filter over the &#x60;AppD&#x60; in the ETSI GS MEC 009 syntax.
    :type filter: str
    :param all_fields: Include every complex attribute of the &#x60;AppD&#x60; (give the parameter without a value).
    :type all_fields: str
    :param fields: Comma-separated complex attributes of the &#x60;AppD&#x60; to include.
    :type fields: str
    :param exclude_fields: Comma-separated complex attributes of the &#x60;AppD&#x60; to leave out.
    :type exclude_fields: str
    :param exclude_default: Leave out the default set of complex attributes of the &#x60;AppD&#x60;: &#x60;virtualComputeDescriptor&#x60;, &#x60;swImageDescriptor&#x60;, &#x60;virtualStorageDescriptor&#x60;, &#x60;appExtCpd&#x60;, &#x60;terminateAppInstanceOpConfig&#x60; and &#x60;changeAppInstanceStateOpConfig&#x60;.
    :type exclude_default: str

    :rtype: Union[AppD, Tuple[AppD, int], Tuple[AppD, int, Dict[str, str]]
    """
    return 'do some magic!'


def onboardedapppackages_delete_appdid(app_did):  # noqa: E501
    """Delete an application package

    Deletes the package resource and its stored content. Refused with &#x60;409&#x60; while app instances created from it exist (&#x60;IN_USE&#x60;) or while the package is &#x60;ENABLED&#x60; (disable it first). Subscribers to &#x60;AppPackageDeletionSubscription&#x60; are notified.  # noqa: E501

    :param app_did: The package: its &#x60;appDId&#x60; once it is onboarded, or its package &#x60;id&#x60; (the &#x60;id&#x60; returned when it was created) at any time. Before onboarding only the &#x60;id&#x60; works.
    :type app_did: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def onboardedapppackages_get(filter=None, all_fields=None, fields=None, exclude_fields=None, exclude_default=None):  # noqa: E501
    """List application packages

    Lists the package resources, in every onboarding state, optionally narrowed by an attribute filter. When nothing matches, the answer is &#x60;200&#x60; with an empty array. &#x60;all_fields&#x60;, &#x60;fields&#x60;, &#x60;exclude_fields&#x60; and &#x60;exclude_default&#x60; select which complex attributes (&#x60;checksum&#x60;, &#x60;softwareImages&#x60;, &#x60;additionalArtifacts&#x60;) are included, as ETSI GS MEC 009 clause 6.18 describes.  # noqa: E501

    :param filter: Attribute filter over &#x60;AppPkgInfo&#x60; in the ETSI GS MEC 009 syntax, for example &#x60;(eq,operationalState,ENABLED)&#x60; or &#x60;(eq,appName,sample-echo);(neq,usageState,IN_USE)&#x60;.
    :type filter: str
    :param all_fields: Include every complex attribute of &#x60;AppPkgInfo&#x60; (give the parameter without a value).
    :type all_fields: str
    :param fields: Comma-separated complex attributes of &#x60;AppPkgInfo&#x60; to include.
    :type fields: str
    :param exclude_fields: Comma-separated complex attributes of &#x60;AppPkgInfo&#x60; to leave out.
    :type exclude_fields: str
    :param exclude_default: Leave out the default set of complex attributes: &#x60;checksum&#x60;, &#x60;softwareImages&#x60; and &#x60;additionalArtifacts&#x60;.
    :type exclude_default: str

    :rtype: Union[List[AppPkgInfo], Tuple[List[AppPkgInfo], int], Tuple[List[AppPkgInfo], int, Dict[str, str]]
    """
    return 'do some magic!'


def onboardedapppackages_get_appdid(app_did):  # noqa: E501
    """Read one application package

    Returns the package resource, including its onboarding progress. # noqa: E501

    :param app_did: The package: its &#x60;appDId&#x60; once it is onboarded, or its package &#x60;id&#x60; (the &#x60;id&#x60; returned when it was created) at any time. Before onboarding only the &#x60;id&#x60; works.
    :type app_did: str

    :rtype: Union[AppPkgInfo, Tuple[AppPkgInfo, int], Tuple[AppPkgInfo, int, Dict[str, str]]
    """
    return 'do some magic!'


def onboardedapppackages_packagecontent_get_appdid(app_did):  # noqa: E501
    """Download the package file

    Returns the ZIP file that was onboarded, byte for byte as it was uploaded (its SHA-256 equals &#x60;checksum.hash&#x60;). &#x60;409&#x60; while the package is not &#x60;ONBOARDED&#x60;. A &#x60;Range: bytes&#x3D;...&#x60; request header asks for part of the file (&#x60;206&#x60;), for example to resume an interrupted download; a range outside the file is a &#x60;416&#x60;.  # noqa: E501

    :param app_did: The package: its &#x60;appDId&#x60; once it is onboarded, or its package &#x60;id&#x60; (the &#x60;id&#x60; returned when it was created) at any time. Before onboarding only the &#x60;id&#x60; works.
    :type app_did: str

    :rtype: Union[file, Tuple[file, int], Tuple[file, int, Dict[str, str]]
    """
    return 'do some magic!'


def onboardedapppackages_packagecontent_put_appdid(app_did, body):  # noqa: E501
    """Upload the package file

    Uploads the ZIP file of a package that is in &#x60;onboardingState&#x60; &#x60;CREATED&#x60;; address it by the &#x60;id&#x60; returned when it was created. Before answering, the platform checks that the file is a well-formed package (safe member paths, size limits, &#x60;appd.json&#x60; valid), that every member matches &#x60;MANIFEST.sha256&#x60;, that the manifest is signed by a trusted key and that the file&#39;s SHA-256 equals the announced &#x60;checksum&#x60;. Any failure is a &#x60;400&#x60; naming the problem; the package stays &#x60;CREATED&#x60;. When the checks pass, the answer is &#x60;202&#x60; and onboarding continues in the background (the container image is loaded); follow it through &#x60;onboardingState&#x60;.  # noqa: E501

    :param app_did: The package: its &#x60;appDId&#x60; once it is onboarded, or its package &#x60;id&#x60; (the &#x60;id&#x60; returned when it was created) at any time. Before onboarding only the &#x60;id&#x60; works.
    :type app_did: str
    :param body: The package, a ZIP file.
    :type body: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    body = body
    return 'do some magic!'


def onboardedapppackages_patch_appdid(app_did, body):  # noqa: E501
    """Enable or disable an application package

    Sets the &#x60;operationalState&#x60; of an onboarded package. A &#x60;DISABLED&#x60; package keeps its running app instances but no new instance may be created from it. Refused with &#x60;409&#x60; when the package is not &#x60;ONBOARDED&#x60; yet or already has the requested state. Subscribers to &#x60;AppPackageChangeSubscription&#x60; are notified.  # noqa: E501

    :param app_did: The package: its &#x60;appDId&#x60; once it is onboarded, or its package &#x60;id&#x60; (the &#x60;id&#x60; returned when it was created) at any time. Before onboarding only the &#x60;id&#x60; works.
    :type app_did: str
    :param app_pkg_info_modifications: The new operational state (a JSON merge patch of the package resource).
    :type app_pkg_info_modifications: dict | bytes

    :rtype: Union[AppPkgInfoModifications, Tuple[AppPkgInfoModifications, int], Tuple[AppPkgInfoModifications, int, Dict[str, str]]
    """
    app_pkg_info_modifications = body
    if flask.request.is_json:
        app_pkg_info_modifications = AppPkgInfoModifications.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def onboardedapppackages_post(body):  # noqa: E501
    """Announce a new application package

    Creates the package resource that the content will be uploaded to. The package starts in &#x60;onboardingState&#x60; &#x60;CREATED&#x60;, &#x60;operationalState&#x60; &#x60;DISABLED&#x60; and &#x60;usageState&#x60; &#x60;NOT_IN_USE&#x60;. The attributes read from the AppD (&#x60;appDId&#x60;, &#x60;appName&#x60;, ...) appear once the content has been onboarded. &#x60;checksum&#x60; must be the SHA-256 of the ZIP file that is uploaded next; a different upload is refused.  # noqa: E501

    :param create_app_pkg: What the provider says about the package before its content arrives.
    :type create_app_pkg: dict | bytes

    :rtype: Union[AppPkgInfo, Tuple[AppPkgInfo, int], Tuple[AppPkgInfo, int, Dict[str, str]]
    """
    create_app_pkg = body
    if flask.request.is_json:
        create_app_pkg = CreateAppPkg.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def subscriptions_delete_subscriptionid(subscription_id):  # noqa: E501
    """Unsubscribe

    Deletes the subscription; no further notifications are sent for it. # noqa: E501

    :param subscription_id: Identifier of the subscription (its &#x60;id&#x60;, the last segment of its &#x60;Location&#x60;).
    :type subscription_id: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def subscriptions_get():  # noqa: E501
    """List subscriptions

    Lists links to the package subscriptions the caller may see (possibly none). # noqa: E501


    :rtype: Union[AppPkgSubscriptionLinkList, Tuple[AppPkgSubscriptionLinkList, int], Tuple[AppPkgSubscriptionLinkList, int, Dict[str, str]]
    """
    return 'do some magic!'


def subscriptions_get_subscriptionid(subscription_id):  # noqa: E501
    """Read one subscription

    Returns one package subscription. # noqa: E501

    :param subscription_id: Identifier of the subscription (its &#x60;id&#x60;, the last segment of its &#x60;Location&#x60;).
    :type subscription_id: str

    :rtype: Union[AppPkgSubscriptionInfo, Tuple[AppPkgSubscriptionInfo, int], Tuple[AppPkgSubscriptionInfo, int, Dict[str, str]]
    """
    return 'do some magic!'


def subscriptions_post(body):  # noqa: E501
    """Subscribe to package notifications

    Creates a subscription. From then on the platform POSTs an &#x60;AppPkgNotification&#x60; to &#x60;callbackUri&#x60; for every package event of the subscribed kind (&#x60;AppPackageOnBoardingSubscription&#x60;: onboarded; &#x60;AppPackageChangeSubscription&#x60;: enabled or disabled; &#x60;AppPackageDeletionSubscription&#x60;: deleted) on a package that matches one of the &#x60;appPkgFilter&#x60; entries (any package when there is none).  # noqa: E501

    :param app_pkg_subscription: The subscription to create.
    :type app_pkg_subscription: dict | bytes

    :rtype: Union[AppPkgSubscriptionInfo, Tuple[AppPkgSubscriptionInfo, int], Tuple[AppPkgSubscriptionInfo, int, Dict[str, str]]
    """
    app_pkg_subscription = body
    if flask.request.is_json:
        app_pkg_subscription = AppPkgSubscription.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'
