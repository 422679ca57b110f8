package pages

// Languages are the page languages, the first is the default.
var Languages = []string{"nl", "fr", "de", "en"}

var langLabels = map[string]string{"nl": "Nederlands", "fr": "Français", "de": "Deutsch", "en": "English"}

// The gateway's error kinds.
const (
	KindBadRequest     Kind = "bad_request"
	KindNotFound       Kind = "not_found"
	KindForbidden      Kind = "forbidden"
	KindBlocked        Kind = "blocked"
	KindFamilyLink     Kind = "family_link"
	KindCSRF           Kind = "csrf"
	KindMethod         Kind = "method"
	KindSessionStore   Kind = "session_store"
	KindUpstream       Kind = "upstream"
	KindIDPUnavailable Kind = "idp_unavailable"
	KindLoginFailed    Kind = "login_failed"
	KindAccessDenied   Kind = "access_denied"
	KindLevelTooLow    Kind = "level_too_low"
	KindNoAccount      Kind = "no_account"
	KindInternal       Kind = "internal"
	KindTooLarge       Kind = "too_large"
	KindUnavailable    Kind = "unavailable"
	KindBadCredentials Kind = "bad_credentials"
	KindAccountChoice  Kind = "account_choice"
	KindAccountFlagged Kind = "account_flagged"
	KindNoNRN          Kind = "no_nrn"
	KindTooMany        Kind = "too_many"
)

// ErrorKinds are the gateway's error kinds (Render with Error); a Set
// adds its own.
var ErrorKinds = []Kind{
	KindBadRequest, KindNotFound, KindForbidden, KindBlocked, KindFamilyLink, KindCSRF, KindMethod, KindSessionStore, KindUpstream, KindIDPUnavailable, KindLoginFailed, KindAccessDenied, KindLevelTooLow, KindNoAccount, KindInternal, KindTooLarge, KindUnavailable, KindBadCredentials, KindAccountChoice, KindAccountFlagged, KindNoNRN, KindTooMany,
}

// texts holds every translation; TestAllPagesAllLanguages renders every
// page in every language and fails on a missing key.
var texts = map[string]map[string]string{
	"nl": {
		"skip": "Naar de inhoud", "languages": "Taal", "footer": "Veilig aanmelden bij uw gemeente.",
		"home":        "Terug naar de startpagina",
		"login.title": "Aanmelden", "login.intro": "Kies hoe u zich wilt aanmelden.", "login.with": "Aanmelden met",
		"login.privacy":   "Uw gemeente krijgt van de aanmelddienst uw rijksregisternummer om uw dossier te vinden.",
		"stepup.title":    "Extra bevestiging nodig",
		"stepup.intro":    "Voor deze handeling moet u zich opnieuw aanmelden met een sterkere aanmeldmethode.",
		"stepup.button":   "Opnieuw aanmelden",
		"stepup.kept":     "Wat u had ingevuld, bewaren we een kwartier (behalve wachtwoorden): na het aanmelden kijkt u het na en verstuurt u het opnieuw.",
		"legacy.title":    "Uw oude aanmelding werkt niet meer",
		"legacy.intro":    "Aanmelden met uw rijksregisternummer en wachtwoord kan niet meer. Meld u aan met itsme of uw eID.",
		"legacy.why":      "Zo kan niemand anders zich met uw rijksregisternummer als u voordoen.",
		"legacy.button":   "Aanmelden met itsme of eID",
		"loggedout.title": "U bent afgemeld", "loggedout.again": "Opnieuw aanmelden", "loggedout.intro": "U bent veilig afgemeld. Sluit uw browser op een gedeelde computer.",
		"logout.title": "Afmelden", "logout.button": "Afmelden",
		"err.ref":               "Referentie:",
		"err.bad_request.title": "Ongeldige aanvraag", "err.bad_request.body": "Dit adres kunnen we niet veilig verwerken.",
		"err.not_found.title": "Pagina niet gevonden", "err.not_found.body": "Deze pagina bestaat niet.",
		"err.forbidden.title": "Geen toegang", "err.forbidden.body": "U hebt geen toegang tot deze pagina.",
		"err.blocked.title": "Niet beschikbaar", "err.blocked.body": "Deze functie is uitgeschakeld.",
		"err.family_link.title": "Gezinslid toevoegen kan hier niet", "err.family_link.body": "Een gezinslid koppelen kan pas na verificatie door het rijksregister of met toestemming van die persoon.",
		"err.csrf.title": "Formulier verlopen", "err.csrf.body": "Het formulier was verlopen. Probeer het opnieuw.",
		"err.method.title": "Niet toegestaan", "err.method.body": "Deze handeling is hier niet toegestaan.",
		"err.session_store.title": "Tijdelijk niet beschikbaar", "err.session_store.body": "We kunnen uw aanmelding nu niet controleren. Probeer het over enkele minuten opnieuw.",
		"err.upstream.title": "Toepassing niet bereikbaar", "err.upstream.body": "De toepassing van de gemeente antwoordt niet. Probeer het later opnieuw.",
		"err.idp_unavailable.title": "Aanmelddienst niet bereikbaar", "err.idp_unavailable.body": "De aanmelddienst is nu niet bereikbaar. Probeer het later opnieuw of kies een andere aanmeldmethode.",
		"err.login_failed.title": "Aanmelden mislukt", "err.login_failed.body": "Uw aanmelding kon niet worden voltooid. Probeer het opnieuw.",
		"err.access_denied.title": "Aanmelden geannuleerd", "err.access_denied.body": "U hebt de aanmelding geannuleerd.",
		"err.level_too_low.title": "Sterkere aanmelding nodig", "err.level_too_low.body": "Deze aanmeldmethode is niet sterk genoeg voor deze handeling. Gebruik itsme of uw eID.",
		"err.no_account.title": "Geen dossier gevonden", "err.no_account.body": "We vonden geen account bij deze toepassing voor uw rijksregisternummer. Neem contact op met uw gemeente.",
		"err.internal.title": "Er ging iets mis", "err.internal.body": "Er ging iets mis aan onze kant. Probeer het later opnieuw.",
		"err.too_large.title": "Aanvraag te groot", "err.too_large.body": "Uw aanvraag is te groot.",
		"err.unavailable.title": "Tijdelijk niet beschikbaar", "err.unavailable.body": "We kunnen uw aanvraag nu niet verwerken. Er is niets gewijzigd. Probeer het over enkele minuten opnieuw.",
		"err.bad_credentials.title": "Aanmelden mislukt", "err.bad_credentials.body": "De gebruikersnaam of het wachtwoord klopt niet. Probeer het opnieuw.",
		"err.account_choice.title": "Meer dan één account gevonden", "err.account_choice.body": "Bij uw rijksregisternummer horen meerdere accounts. Om niets fout te koppelen, helpt de dienstverlening van uw gemeente u verder. Vermeld de referentie hieronder.",
		"err.account_flagged.title": "Uw account moet nagekeken worden", "err.account_flagged.body": "De gegevens van uw account kloppen niet met uw aanmelding. Uit voorzorg koppelen we niets. De dienstverlening van uw gemeente kijkt het na; vermeld de referentie hieronder.",
		"err.no_nrn.title": "Geen rijksregisternummer ontvangen", "err.no_nrn.body": "Uw aanmelding bevat geen Belgisch rijksregisternummer (bijvoorbeeld met een buitenlands identiteitsdocument in itsme). Meld u aan met uw Belgische eID of neem contact op met uw gemeente.",
		"err.too_many.title": "Even geduld", "err.too_many.body": "Er werden vanaf uw verbinding te veel aanmeldingen gestart. Probeer het over enkele minuten opnieuw.",
	},
	"fr": {
		"skip": "Aller au contenu", "languages": "Langue", "footer": "Connexion sécurisée à votre commune.",
		"home":        "Retour à la page d'accueil",
		"login.title": "Se connecter", "login.intro": "Choisissez comment vous connecter.", "login.with": "Se connecter avec",
		"login.privacy":   "Le service de connexion transmet votre numéro de registre national à votre commune pour retrouver votre dossier.",
		"stepup.title":    "Confirmation supplémentaire requise",
		"stepup.intro":    "Pour cette opération, vous devez vous reconnecter avec une méthode de connexion plus forte.",
		"stepup.button":   "Se reconnecter",
		"stepup.kept":     "Ce que vous aviez saisi est conservé un quart d'heure (sauf les mots de passe) : après la connexion, vous le vérifiez et l'envoyez à nouveau.",
		"legacy.title":    "Votre ancienne connexion ne fonctionne plus",
		"legacy.intro":    "La connexion avec votre numéro de registre national et un mot de passe n'est plus possible. Connectez-vous avec itsme ou votre eID.",
		"legacy.why":      "Ainsi, personne ne peut se faire passer pour vous avec votre numéro de registre national.",
		"legacy.button":   "Se connecter avec itsme ou eID",
		"loggedout.title": "Vous êtes déconnecté", "loggedout.again": "Se reconnecter", "loggedout.intro": "Vous êtes déconnecté en toute sécurité. Fermez votre navigateur sur un ordinateur partagé.",
		"logout.title": "Se déconnecter", "logout.button": "Se déconnecter",
		"err.ref":               "Référence :",
		"err.bad_request.title": "Demande invalide", "err.bad_request.body": "Nous ne pouvons pas traiter cette adresse en toute sécurité.",
		"err.not_found.title": "Page introuvable", "err.not_found.body": "Cette page n'existe pas.",
		"err.forbidden.title": "Accès refusé", "err.forbidden.body": "Vous n'avez pas accès à cette page.",
		"err.blocked.title": "Non disponible", "err.blocked.body": "Cette fonction est désactivée.",
		"err.family_link.title": "Ajout d'un membre de la famille impossible ici", "err.family_link.body": "Un membre de la famille ne peut être lié qu'après vérification par le registre national ou avec son consentement.",
		"err.csrf.title": "Formulaire expiré", "err.csrf.body": "Le formulaire a expiré. Veuillez réessayer.",
		"err.method.title": "Non autorisé", "err.method.body": "Cette opération n'est pas autorisée ici.",
		"err.session_store.title": "Temporairement indisponible", "err.session_store.body": "Nous ne pouvons pas vérifier votre connexion pour le moment. Réessayez dans quelques minutes.",
		"err.upstream.title": "Application injoignable", "err.upstream.body": "L'application de la commune ne répond pas. Réessayez plus tard.",
		"err.idp_unavailable.title": "Service de connexion injoignable", "err.idp_unavailable.body": "Le service de connexion est injoignable. Réessayez plus tard ou choisissez une autre méthode.",
		"err.login_failed.title": "Échec de la connexion", "err.login_failed.body": "Votre connexion n'a pas pu aboutir. Veuillez réessayer.",
		"err.access_denied.title": "Connexion annulée", "err.access_denied.body": "Vous avez annulé la connexion.",
		"err.level_too_low.title": "Connexion plus forte requise", "err.level_too_low.body": "Cette méthode de connexion n'est pas assez forte pour cette opération. Utilisez itsme ou votre eID.",
		"err.no_account.title": "Aucun dossier trouvé", "err.no_account.body": "Aucun compte de cette application ne correspond à votre numéro de registre national. Contactez votre commune.",
		"err.internal.title": "Une erreur s'est produite", "err.internal.body": "Une erreur s'est produite de notre côté. Réessayez plus tard.",
		"err.too_large.title": "Demande trop volumineuse", "err.too_large.body": "Votre demande est trop volumineuse.",
		"err.unavailable.title": "Temporairement indisponible", "err.unavailable.body": "Nous ne pouvons pas traiter votre demande pour le moment. Rien n'a été modifié. Réessayez dans quelques minutes.",
		"err.bad_credentials.title": "Échec de la connexion", "err.bad_credentials.body": "Le nom d'utilisateur ou le mot de passe est incorrect. Réessayez.",
		"err.account_choice.title": "Plusieurs comptes trouvés", "err.account_choice.body": "Plusieurs comptes correspondent à votre numéro de registre national. Pour ne rien lier par erreur, le service de votre commune vous aidera. Mentionnez la référence ci-dessous.",
		"err.account_flagged.title": "Votre compte doit être vérifié", "err.account_flagged.body": "Les données de votre compte ne correspondent pas à votre connexion. Par précaution, nous ne lions rien. Le service de votre commune va vérifier ; mentionnez la référence ci-dessous.",
		"err.no_nrn.title": "Aucun numéro de registre national reçu", "err.no_nrn.body": "Votre connexion ne contient pas de numéro de registre national belge (par exemple avec un document d'identité étranger dans itsme). Connectez-vous avec votre eID belge ou contactez votre commune.",
		"err.too_many.title": "Un instant", "err.too_many.body": "Trop de connexions ont été lancées depuis votre connexion. Réessayez dans quelques minutes.",
	},
	"de": {
		"skip": "Zum Inhalt", "languages": "Sprache", "footer": "Sichere Anmeldung bei Ihrer Gemeinde.",
		"home":        "Zurück zur Startseite",
		"login.title": "Anmelden", "login.intro": "Wählen Sie, wie Sie sich anmelden möchten.", "login.with": "Anmelden mit",
		"login.privacy":   "Der Anmeldedienst übermittelt Ihrer Gemeinde Ihre Nationalregisternummer, um Ihre Akte zu finden.",
		"stepup.title":    "Zusätzliche Bestätigung erforderlich",
		"stepup.intro":    "Für diesen Vorgang müssen Sie sich erneut mit einer stärkeren Anmeldemethode anmelden.",
		"stepup.button":   "Erneut anmelden",
		"stepup.kept":     "Was Sie eingegeben hatten, bewahren wir eine Viertelstunde auf (außer Passwörtern): Nach der Anmeldung prüfen Sie es und senden es erneut.",
		"legacy.title":    "Ihre alte Anmeldung funktioniert nicht mehr",
		"legacy.intro":    "Die Anmeldung mit Nationalregisternummer und Passwort ist nicht mehr möglich. Melden Sie sich mit itsme oder Ihrer eID an.",
		"legacy.why":      "So kann sich niemand mit Ihrer Nationalregisternummer als Sie ausgeben.",
		"legacy.button":   "Mit itsme oder eID anmelden",
		"loggedout.title": "Sie sind abgemeldet", "loggedout.again": "Erneut anmelden", "loggedout.intro": "Sie sind sicher abgemeldet. Schließen Sie Ihren Browser auf einem gemeinsam genutzten Computer.",
		"logout.title": "Abmelden", "logout.button": "Abmelden",
		"err.ref":               "Referenz:",
		"err.bad_request.title": "Ungültige Anfrage", "err.bad_request.body": "Diese Adresse können wir nicht sicher verarbeiten.",
		"err.not_found.title": "Seite nicht gefunden", "err.not_found.body": "Diese Seite existiert nicht.",
		"err.forbidden.title": "Kein Zugriff", "err.forbidden.body": "Sie haben keinen Zugriff auf diese Seite.",
		"err.blocked.title": "Nicht verfügbar", "err.blocked.body": "Diese Funktion ist deaktiviert.",
		"err.family_link.title": "Familienmitglied hinzufügen hier nicht möglich", "err.family_link.body": "Ein Familienmitglied kann erst nach Prüfung durch das Nationalregister oder mit seiner Zustimmung verknüpft werden.",
		"err.csrf.title": "Formular abgelaufen", "err.csrf.body": "Das Formular ist abgelaufen. Bitte versuchen Sie es erneut.",
		"err.method.title": "Nicht erlaubt", "err.method.body": "Dieser Vorgang ist hier nicht erlaubt.",
		"err.session_store.title": "Vorübergehend nicht verfügbar", "err.session_store.body": "Wir können Ihre Anmeldung gerade nicht prüfen. Versuchen Sie es in einigen Minuten erneut.",
		"err.upstream.title": "Anwendung nicht erreichbar", "err.upstream.body": "Die Anwendung der Gemeinde antwortet nicht. Versuchen Sie es später erneut.",
		"err.idp_unavailable.title": "Anmeldedienst nicht erreichbar", "err.idp_unavailable.body": "Der Anmeldedienst ist nicht erreichbar. Versuchen Sie es später erneut oder wählen Sie eine andere Methode.",
		"err.login_failed.title": "Anmeldung fehlgeschlagen", "err.login_failed.body": "Ihre Anmeldung konnte nicht abgeschlossen werden. Bitte versuchen Sie es erneut.",
		"err.access_denied.title": "Anmeldung abgebrochen", "err.access_denied.body": "Sie haben die Anmeldung abgebrochen.",
		"err.level_too_low.title": "Stärkere Anmeldung erforderlich", "err.level_too_low.body": "Diese Anmeldemethode ist für diesen Vorgang nicht stark genug. Verwenden Sie itsme oder Ihre eID.",
		"err.no_account.title": "Keine Akte gefunden", "err.no_account.body": "Zu Ihrer Nationalregisternummer gibt es in dieser Anwendung kein Konto. Wenden Sie sich an Ihre Gemeinde.",
		"err.internal.title": "Etwas ist schiefgelaufen", "err.internal.body": "Bei uns ist etwas schiefgelaufen. Versuchen Sie es später erneut.",
		"err.too_large.title": "Anfrage zu groß", "err.too_large.body": "Ihre Anfrage ist zu groß.",
		"err.unavailable.title": "Vorübergehend nicht verfügbar", "err.unavailable.body": "Wir können Ihre Anfrage gerade nicht bearbeiten. Es wurde nichts geändert. Versuchen Sie es in einigen Minuten erneut.",
		"err.bad_credentials.title": "Anmeldung fehlgeschlagen", "err.bad_credentials.body": "Benutzername oder Passwort ist falsch. Versuchen Sie es erneut.",
		"err.account_choice.title": "Mehrere Konten gefunden", "err.account_choice.body": "Zu Ihrer Nationalregisternummer gehören mehrere Konten. Damit nichts falsch verknüpft wird, hilft Ihnen der Bürgerdienst Ihrer Gemeinde weiter. Nennen Sie die Referenz unten.",
		"err.account_flagged.title": "Ihr Konto muss geprüft werden", "err.account_flagged.body": "Die Daten Ihres Kontos passen nicht zu Ihrer Anmeldung. Vorsichtshalber verknüpfen wir nichts. Der Bürgerdienst Ihrer Gemeinde prüft das; nennen Sie die Referenz unten.",
		"err.no_nrn.title": "Keine Nationalregisternummer erhalten", "err.no_nrn.body": "Ihre Anmeldung enthält keine belgische Nationalregisternummer (zum Beispiel mit einem ausländischen Ausweis in itsme). Melden Sie sich mit Ihrer belgischen eID an oder wenden Sie sich an Ihre Gemeinde.",
		"err.too_many.title": "Bitte etwas Geduld", "err.too_many.body": "Von Ihrer Verbindung wurden zu viele Anmeldungen gestartet. Versuchen Sie es in einigen Minuten erneut.",
	},
	"en": {
		"skip": "Skip to content", "languages": "Language", "footer": "Secure login to your municipality.",
		"home":        "Back to the start page",
		"login.title": "Log in", "login.intro": "Choose how you want to log in.", "login.with": "Log in with",
		"login.privacy":   "The login service gives your municipality your national register number so it can find your file.",
		"stepup.title":    "Extra confirmation needed",
		"stepup.intro":    "For this action you must log in again with a stronger login method.",
		"stepup.button":   "Log in again",
		"stepup.kept":     "What you filled in is kept for a quarter of an hour (except passwords): after logging in you check it and send it again.",
		"legacy.title":    "Your old login no longer works",
		"legacy.intro":    "Logging in with your national register number and a password is no longer possible. Log in with itsme or your eID.",
		"legacy.why":      "This way nobody else can pretend to be you with your national register number.",
		"legacy.button":   "Log in with itsme or eID",
		"loggedout.title": "You are logged out", "loggedout.again": "Log in again", "loggedout.intro": "You are safely logged out. Close your browser on a shared computer.",
		"logout.title": "Log out", "logout.button": "Log out",
		"err.ref":               "Reference:",
		"err.bad_request.title": "Invalid request", "err.bad_request.body": "We cannot safely process this address.",
		"err.not_found.title": "Page not found", "err.not_found.body": "This page does not exist.",
		"err.forbidden.title": "No access", "err.forbidden.body": "You do not have access to this page.",
		"err.blocked.title": "Not available", "err.blocked.body": "This function is switched off.",
		"err.family_link.title": "Adding a family member is not possible here", "err.family_link.body": "A family member can only be linked after verification by the national register or with their consent.",
		"err.csrf.title": "Form expired", "err.csrf.body": "The form had expired. Please try again.",
		"err.method.title": "Not allowed", "err.method.body": "This action is not allowed here.",
		"err.session_store.title": "Temporarily unavailable", "err.session_store.body": "We cannot check your login right now. Please try again in a few minutes.",
		"err.upstream.title": "Application unreachable", "err.upstream.body": "The municipality's application does not answer. Please try again later.",
		"err.idp_unavailable.title": "Login service unreachable", "err.idp_unavailable.body": "The login service cannot be reached. Please try again later or choose another login method.",
		"err.login_failed.title": "Login failed", "err.login_failed.body": "Your login could not be completed. Please try again.",
		"err.access_denied.title": "Login cancelled", "err.access_denied.body": "You cancelled the login.",
		"err.level_too_low.title": "Stronger login needed", "err.level_too_low.body": "This login method is not strong enough for this action. Use itsme or your eID.",
		"err.no_account.title": "No file found", "err.no_account.body": "We found no account in this application for your national register number. Please contact your municipality.",
		"err.internal.title": "Something went wrong", "err.internal.body": "Something went wrong on our side. Please try again later.",
		"err.too_large.title": "Request too large", "err.too_large.body": "Your request is too large.",
		"err.unavailable.title": "Temporarily unavailable", "err.unavailable.body": "We cannot handle your request right now. Nothing was changed. Please try again in a few minutes.",
		"err.bad_credentials.title": "Login failed", "err.bad_credentials.body": "The username or password is wrong. Please try again.",
		"err.account_choice.title": "More than one account found", "err.account_choice.body": "Several accounts belong to your national register number. So that nothing is linked wrongly, your municipality's helpdesk will help you. Quote the reference below.",
		"err.account_flagged.title": "Your account needs a check", "err.account_flagged.body": "Your account's data do not match your login. To be safe, we link nothing. Your municipality's helpdesk will check it; quote the reference below.",
		"err.no_nrn.title": "No national register number received", "err.no_nrn.body": "Your login carries no Belgian national register number (for example with a foreign identity document in itsme). Log in with your Belgian eID or contact your municipality.",
		"err.too_many.title": "Please wait", "err.too_many.body": "Too many logins were started from your connection. Please try again in a few minutes.",
	},
}
