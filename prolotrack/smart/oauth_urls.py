"""The OAuth 2.0 / OpenID Connect endpoints at /oauth/ (docs/SMART.md), under django-oauth-toolkit's URL names."""

from django.urls import path, re_path
from oauth2_provider import views as dot

from prolotrack.smart import views

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", views.SmartAuthorizationView.as_view(), name="authorize"),
    path("token/", dot.TokenView.as_view(), name="token"),
    path("revoke/", dot.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.introspect, name="introspect"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        dot.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", dot.JwksInfoView.as_view(), name="jwks-info"),
    # RFC 8414 metadata under the same prefix, so its issuer (and RFC 9207's `iss` in every authorization response)
    # is the OpenID issuer, <site>/oauth.
    path(
        ".well-known/oauth-authorization-server",
        dot.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path("userinfo/", dot.UserInfoView.as_view(), name="user-info"),
]
