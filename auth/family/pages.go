package family

import (
	"embed"
	"io/fs"

	"github.com/overstap/overstap/auth/gateway/pages"
)

// The family pages: the requester's invitation page, the member's code
// entry and approve/decline page, the list of grants with revoke buttons,
// and the result page. Their templates and texts live here; the gateway
// renders them in its layout (brand, language switch, security headers)
// once serve passes PageSet to it.
const (
	PageInvite  = "family_invite"
	PageAccept  = "family_accept"
	PageApprove = "family_approve"
	PageGrants  = "family_grants"
	PageDone    = "family_done"
	PageResume  = "family_resume"
)

// The error kinds of the family pages.
const (
	KindNRN        pages.Kind = "family_nrn"
	KindRequest    pages.Kind = "family_request"
	KindSelf       pages.Kind = "family_self"
	KindGrant      pages.Kind = "family_grant"
	KindCredential pages.Kind = "family_credential"
	KindCode       pages.Kind = "family_code"
	KindNotForYou  pages.Kind = "family_not_for_you"
	KindLocked     pages.Kind = "family_locked"
	KindRate       pages.Kind = "family_rate"
	KindTooMany    pages.Kind = "family_too_many"
)

//go:embed templates/*.html
var templateFS embed.FS

// PageSet is the family pages for the gateway's renderer.
func PageSet() pages.Set {
	sub, _ := fs.Sub(templateFS, "templates")
	return pages.Set{
		FS:    sub,
		Pages: []string{PageInvite, PageAccept, PageApprove, PageGrants, PageDone, PageResume},
		Titles: map[string]string{
			PageInvite: "family.invite.title", PageAccept: "family.accept.title", PageApprove: "family.approve.title",
			PageGrants: "family.grants.title", PageDone: "family.done.title", PageResume: "family.resume.title",
		},
		Kinds: []pages.Kind{KindNRN, KindRequest, KindSelf, KindGrant, KindCredential, KindCode, KindNotForYou,
			KindLocked, KindRate, KindTooMany},
		Texts: texts,
	}
}

// invitePage is the data of PageInvite (pages.Data.Extra).
type invitePage struct {
	Member  string // masked national number (see names.go: no name before consent)
	App     label
	Expires string // date
}

// approvePage is the data of PageApprove.
type approvePage struct {
	Requester person
	App       label
	Scope     []label
	Until     string
}

// grantItem is one line of PageGrants: a grant or an open invitation.
type grantItem struct {
	ID    string
	Who   person // the other person
	App   label
	Scope []label // nil for an invitation
	Until string  // date
}

// grantsPage is the data of PageGrants.
type grantsPage struct {
	AsMember    []grantItem // others may see the person's data (revocable)
	AsRequester []grantItem // the person may see others' data (revocable)
	Pending     []grantItem // invitations the person made (cancellable)
	CancelURL   string
	AcceptURL   string // where a member enters an invitation code
	AddURL      string // an app's family page, where a requester adds someone
}

// resumeField is one field of PageResume.
type resumeField struct {
	draftField
	ID     string
	Member bool // the family-add's member field (labelled in words)
}

// resumePage is the data of PageResume: the kept form, posted to the
// app's route (pages.Data.Action).
type resumePage struct {
	Fields []resumeField
	Cancel string // the app's family page
}

// itemView is a grantItem in a page's language (the grants template's
// family-item).
type itemView struct {
	grantItem
	Lang string
}

// In pairs it with the page's language.
func (grantsPage) In(lang string, it grantItem) itemView { return itemView{it, lang} }

// rowView is one line of PageGrants with its button (the grants
// template's family-row): a form posting the item's ID as Field to Action.
type rowView struct {
	Item   itemView
	Action string
	CSRF   string
	Field  string // "grant" or "invitation"
	Button string // the button's class: "revoke" or "cancel"
	Text   string // the button's text key
}

// Row is it's line on page d, its button posting field=it.ID to action.
func (p grantsPage) Row(d pages.Data, it grantItem, action, field, button string) rowView {
	return rowView{Item: p.In(d.Lang, it), Action: action, CSRF: d.CSRF, Field: field, Button: button, Text: "family.grants." + button}
}

// label is a text the page shows in its language: a configured Words, or
// one of the Set's texts (key), or fallback.
type label struct {
	words    Words
	key      string
	fallback string
}

// In is the label in lang.
func (l label) In(lang string) string {
	if l.key != "" {
		return texts[lang][l.key]
	}
	return l.words.In(lang, l.fallback)
}

// appLabel is how the pages name app.
func (s *Service) appLabel(app string) label {
	if a, ok := s.apps[app]; ok {
		return label{words: a.Label, fallback: app}
	}
	return label{fallback: app}
}

// scopeLabels names what scope lets the requester do in app.
func (s *Service) scopeLabels(app string, sc Scope) []label {
	var out []label
	if sc.View {
		out = append(out, label{key: "family.scope.view"})
	}
	for _, name := range sc.Act {
		l := label{fallback: name}
		if a, ok := s.apps[app]; ok {
			for _, act := range a.Actions {
				if act.Name == name {
					l.words = act.Label
				}
			}
		}
		out = append(out, l)
	}
	return out
}

var texts = map[string]map[string]string{
	"nl": {
		"family.resume.title":          "Kijk na en verstuur opnieuw",
		"family.resume.intro":          "U bent opnieuw aangemeld. Hieronder staat wat u had ingevuld; er is nog niets verstuurd. Kijk het na en verstuur het.",
		"family.resume.member":         "Rijksregisternummer van het gezinslid",
		"family.resume.password":       "Wachtwoorden bewaren we niet: vul ze opnieuw in.",
		"family.resume.send":           "Versturen",
		"family.resume.cancel":         "Niet versturen",
		"family.grants.member_none":    "Niemand heeft toegang tot uw gegevens. Wilt u dat iemand iets voor u kan doen? Vraag die persoon u als gezinslid toe te voegen in de toepassing. Die krijgt dan een uitnodigingscode voor u; geef die hieronder in met de knop \"Ik kreeg een uitnodigingscode\".",
		"family.grants.requester_none": "U hebt nog geen toegang tot de gegevens van iemand anders. Om iets te doen voor een gezinslid, voegt u het toe op de gezinspagina van de toepassing.",
		"family.grants.pending_none":   "U hebt geen open uitnodigingen. Kan het rijksregister een gezinslid dat u toevoegt niet bevestigen, dan krijgt u een uitnodigingscode voor die persoon; die staat hier tot de persoon antwoordt.",
		"family.grants.add":            "Naar de gezinspagina van de toepassing",
		"family.grants.until":          "tot",
		"family.grants.waiting":        "wacht op antwoord",
		"family.invite.where":          "De pagina voor de persoon op deze website:",
		"family.grants.pending":        "Uw open uitnodigingen",
		"family.grants.cancel":         "Intrekken",
		"family.done.cancelled.title":  "Uitnodiging ingetrokken",
		"family.done.cancelled.body":   "De code werkt niet meer.",
		"family.back":                  "Terug naar de toepassing",
		"family.invite.title":          "Gezinslid nog niet bevestigd",
		"family.invite.not_verified":   "Het rijksregister bevestigt niet dat deze persoon uw minderjarig kind is of onder uw voogdij staat. Op hetzelfde adres wonen is niet genoeg. Daarom is deze persoon niet gekoppeld.",
		"family.invite.registry_down":  "We kunnen het rijksregister nu niet raadplegen. Daarom koppelen we niets op basis van het register. De persoon zelf om toestemming vragen kan wel.",
		"family.invite.address":        "De persoon kan zelf toestemming geven met deze eenmalige uitnodigingscode.",
		"family.invite.code":           "Uitnodigingscode",
		"family.invite.member":         "Voor",
		"family.invite.expires":        "Geldig tot",
		"family.invite.howto":          "Geef de code aan de persoon zelf. Die meldt zich aan met de eigen itsme of eID, kiest op de gezinspagina van de gemeente voor \"Ik kreeg een uitnodigingscode\" en keurt goed of weigert. Daarna kunt u het gezinslid opnieuw toevoegen.",
		"family.invite.once":           "Schrijf de code nu op: we bewaren ze niet en tonen ze niet opnieuw.",
		"family.accept.title":          "Uitnodiging van een gezinslid",
		"family.accept.intro":          "U bent aangemeld met uw eigen identiteit. Geef de code in die u kreeg van wie toegang tot uw gegevens vraagt.",
		"family.accept.code":           "Uitnodigingscode",
		"family.accept.button":         "Verder",
		"family.approve.title":         "Toestemming geven?",
		"family.approve.intro":         "Deze persoon vraagt toegang tot uw gegevens bij de gemeente:",
		"family.approve.requester":     "Aanvrager",
		"family.approve.app":           "Toepassing",
		"family.approve.scope":         "Toegang",
		"family.approve.until":         "Geldig tot",
		"family.approve.never":         "Uw wachtwoord of e-mailadres kan die persoon nooit wijzigen. U kunt de toegang altijd intrekken op deze pagina's.",
		"family.approve.yes":           "Toestaan",
		"family.approve.no":            "Weigeren",
		"family.scope.view":            "uw gegevens bekijken",
		"family.grants.title":          "Uw gezinskoppelingen",
		"family.grants.intro":          "Hier ziet u wie toegang heeft tot uw gegevens, en tot wiens gegevens u toegang hebt. U kunt elke koppeling intrekken.",
		"family.grants.member":         "Wie heeft toegang tot uw gegevens",
		"family.grants.requester":      "Tot wiens gegevens hebt u toegang",
		"family.grants.revoke":         "Intrekken",
		"family.grants.accept":         "Ik kreeg een uitnodigingscode",
		"family.done.title":            "Klaar",
		"family.done.approved.title":   "Toestemming gegeven",
		"family.done.approved.body":    "De aanvrager kan uw gegevens nu bekijken. U kunt dit altijd intrekken.",
		"family.done.declined.title":   "Toestemming geweigerd",
		"family.done.declined.body":    "Er is niets gekoppeld.",
		"family.done.revoked.title":    "Koppeling ingetrokken",
		"family.done.revoked.body":     "De koppeling is beëindigd. Vanaf nu is er geen toegang meer.",
		"err.family_nrn.title":         "Ongeldig rijksregisternummer",
		"err.family_nrn.body":          "Het rijksregisternummer van het gezinslid ontbreekt of klopt niet. Kijk het na en probeer opnieuw.",
		"err.family_request.title":     "Aanvraag niet eenduidig",
		"err.family_request.body":      "Uw aanvraag kon niet eenduidig gelezen worden (een veld kwam meer dan eens voor, of het formaat klopt niet). Er is niets gekoppeld.",
		"err.family_self.title":        "Dat bent u zelf",
		"err.family_self.body":         "U kunt uzelf niet als gezinslid toevoegen.",
		"err.family_grant.title":       "Geen toegang tot deze persoon",
		"err.family_grant.body":        "U hebt geen geldige koppeling met deze persoon voor deze handeling. Ze is misschien ingetrokken of verlopen.",
		"err.family_credential.title":  "Niet toegestaan",
		"err.family_credential.body":   "Het wachtwoord of e-mailadres van iemand anders wijzigen kan nooit, ook niet voor een gezinslid. Elke persoon beheert zijn eigen aanmelding.",
		"err.family_code.title":        "Code ongeldig",
		"err.family_code.body":         "Deze uitnodigingscode bestaat niet, is al gebruikt of is verlopen.",
		"err.family_not_for_you.title": "Deze uitnodiging is niet voor u",
		"err.family_not_for_you.body":  "Alleen de uitgenodigde persoon kan deze uitnodiging openen, aangemeld met de eigen identiteit. Er is niets gekoppeld.",
		"err.family_locked.title":      "Uitnodiging geblokkeerd",
		"err.family_locked.body":       "Deze uitnodiging werd te vaak door iemand anders geopend en is geblokkeerd. Vraag een nieuwe uitnodiging.",
		"err.family_rate.title":        "Te veel pogingen",
		"err.family_rate.body":         "U gaf te vaak een verkeerde code in. Probeer het later opnieuw.",
		"err.family_too_many.title":    "Te veel open uitnodigingen",
		"err.family_too_many.body":     "U hebt al veel uitnodigingen die nog niet beantwoord zijn. Wacht tot ze beantwoord of verlopen zijn.",
	},
	"fr": {
		"family.resume.title":          "Vérifiez et envoyez à nouveau",
		"family.resume.intro":          "Vous êtes à nouveau connecté. Voici ce que vous aviez saisi ; rien n'a encore été envoyé. Vérifiez-le et envoyez-le.",
		"family.resume.member":         "Numéro de registre national du membre de la famille",
		"family.resume.password":       "Nous ne conservons pas les mots de passe : saisissez-les à nouveau.",
		"family.resume.send":           "Envoyer",
		"family.resume.cancel":         "Ne pas envoyer",
		"family.grants.member_none":    "Personne n'a accès à vos données. Vous voulez que quelqu'un puisse agir pour vous ? Demandez à cette personne de vous ajouter comme membre de la famille dans l'application. Elle reçoit alors un code d'invitation pour vous ; saisissez-le ci-dessous avec le bouton \"J'ai reçu un code d'invitation\".",
		"family.grants.requester_none": "Vous n'avez encore accès aux données de personne. Pour agir pour un membre de la famille, ajoutez-le sur la page famille de l'application.",
		"family.grants.pending_none":   "Vous n'avez aucune invitation ouverte. Si le registre national ne peut pas confirmer un membre de la famille que vous ajoutez, vous recevez un code d'invitation pour cette personne ; il figure ici jusqu'à sa réponse.",
		"family.grants.add":            "Vers la page famille de l'application",
		"family.grants.until":          "jusqu'au",
		"family.grants.waiting":        "en attente de réponse",
		"family.invite.where":          "La page pour la personne sur ce site :",
		"family.grants.pending":        "Vos invitations ouvertes",
		"family.grants.cancel":         "Annuler",
		"family.done.cancelled.title":  "Invitation annulée",
		"family.done.cancelled.body":   "Le code ne fonctionne plus.",
		"family.back":                  "Retour à l'application",
		"family.invite.title":          "Membre de la famille non confirmé",
		"family.invite.not_verified":   "Le registre national ne confirme pas que cette personne est votre enfant mineur ou sous votre tutelle. Habiter à la même adresse ne suffit pas. Cette personne n'a donc pas été liée.",
		"family.invite.registry_down":  "Nous ne pouvons pas consulter le registre national pour le moment. Nous ne lions donc rien sur sa base. Vous pouvez toutefois demander le consentement de la personne elle-même.",
		"family.invite.address":        "La personne peut donner son consentement avec ce code d'invitation à usage unique.",
		"family.invite.code":           "Code d'invitation",
		"family.invite.member":         "Pour",
		"family.invite.expires":        "Valable jusqu'au",
		"family.invite.howto":          "Donnez le code à la personne elle-même. Elle se connecte avec son propre itsme ou eID, choisit \"J'ai reçu un code d'invitation\" sur la page famille de la commune et accepte ou refuse. Ensuite, vous pouvez ajouter à nouveau le membre de la famille.",
		"family.invite.once":           "Notez le code maintenant : nous ne le conservons pas et ne l'afficherons plus.",
		"family.accept.title":          "Invitation d'un membre de la famille",
		"family.accept.intro":          "Vous êtes connecté avec votre propre identité. Saisissez le code reçu de la personne qui demande l'accès à vos données.",
		"family.accept.code":           "Code d'invitation",
		"family.accept.button":         "Continuer",
		"family.approve.title":         "Donner votre consentement ?",
		"family.approve.intro":         "Cette personne demande l'accès à vos données auprès de la commune :",
		"family.approve.requester":     "Demandeur",
		"family.approve.app":           "Application",
		"family.approve.scope":         "Accès",
		"family.approve.until":         "Valable jusqu'au",
		"family.approve.never":         "Cette personne ne pourra jamais modifier votre mot de passe ou votre adresse e-mail. Vous pouvez retirer l'accès à tout moment sur ces pages.",
		"family.approve.yes":           "Autoriser",
		"family.approve.no":            "Refuser",
		"family.scope.view":            "consulter vos données",
		"family.grants.title":          "Vos liens familiaux",
		"family.grants.intro":          "Vous voyez ici qui a accès à vos données et aux données de qui vous avez accès. Vous pouvez retirer chaque lien.",
		"family.grants.member":         "Qui a accès à vos données",
		"family.grants.requester":      "Aux données de qui avez-vous accès",
		"family.grants.revoke":         "Retirer",
		"family.grants.accept":         "J'ai reçu un code d'invitation",
		"family.done.title":            "Terminé",
		"family.done.approved.title":   "Consentement donné",
		"family.done.approved.body":    "Le demandeur peut maintenant consulter vos données. Vous pouvez retirer cet accès à tout moment.",
		"family.done.declined.title":   "Consentement refusé",
		"family.done.declined.body":    "Rien n'a été lié.",
		"family.done.revoked.title":    "Lien retiré",
		"family.done.revoked.body":     "Le lien a pris fin. Il n'y a plus d'accès à partir de maintenant.",
		"err.family_nrn.title":         "Numéro de registre national invalide",
		"err.family_nrn.body":          "Le numéro de registre national du membre de la famille manque ou est incorrect. Vérifiez-le et réessayez.",
		"err.family_request.title":     "Demande ambiguë",
		"err.family_request.body":      "Votre demande n'a pas pu être lue sans ambiguïté (un champ apparaissait plusieurs fois, ou le format est incorrect). Rien n'a été lié.",
		"err.family_self.title":        "C'est vous",
		"err.family_self.body":         "Vous ne pouvez pas vous ajouter vous-même comme membre de la famille.",
		"err.family_grant.title":       "Pas d'accès à cette personne",
		"err.family_grant.body":        "Vous n'avez pas de lien valable avec cette personne pour cette opération. Il a peut-être été retiré ou a expiré.",
		"err.family_credential.title":  "Non autorisé",
		"err.family_credential.body":   "Modifier le mot de passe ou l'adresse e-mail de quelqu'un d'autre n'est jamais possible, même pour un membre de la famille. Chacun gère sa propre connexion.",
		"err.family_code.title":        "Code invalide",
		"err.family_code.body":         "Ce code d'invitation n'existe pas, a déjà été utilisé ou a expiré.",
		"err.family_not_for_you.title": "Cette invitation ne vous est pas destinée",
		"err.family_not_for_you.body":  "Seule la personne invitée peut ouvrir cette invitation, connectée avec sa propre identité. Rien n'a été lié.",
		"err.family_locked.title":      "Invitation bloquée",
		"err.family_locked.body":       "Cette invitation a été ouverte trop souvent par quelqu'un d'autre et est bloquée. Demandez une nouvelle invitation.",
		"err.family_rate.title":        "Trop de tentatives",
		"err.family_rate.body":         "Vous avez saisi trop souvent un code erroné. Réessayez plus tard.",
		"err.family_too_many.title":    "Trop d'invitations ouvertes",
		"err.family_too_many.body":     "Vous avez déjà beaucoup d'invitations sans réponse. Attendez qu'elles reçoivent une réponse ou expirent.",
	},
	"de": {
		"family.resume.title":          "Prüfen und erneut senden",
		"family.resume.intro":          "Sie sind wieder angemeldet. Hier steht, was Sie eingegeben hatten; es wurde noch nichts gesendet. Prüfen Sie es und senden Sie es ab.",
		"family.resume.member":         "Nationalregisternummer des Familienmitglieds",
		"family.resume.password":       "Passwörter speichern wir nicht: Bitte geben Sie sie erneut ein.",
		"family.resume.send":           "Senden",
		"family.resume.cancel":         "Nicht senden",
		"family.grants.member_none":    "Niemand hat Zugang zu Ihren Daten. Soll jemand für Sie handeln können? Bitten Sie die Person, Sie in der Anwendung als Familienmitglied hinzuzufügen. Sie erhält dann einen Einladungscode für Sie; geben Sie ihn unten mit der Schaltfläche \"Ich habe einen Einladungscode erhalten\" ein.",
		"family.grants.requester_none": "Sie haben noch keinen Zugang zu den Daten einer anderen Person. Um für ein Familienmitglied zu handeln, fügen Sie es auf der Familienseite der Anwendung hinzu.",
		"family.grants.pending_none":   "Sie haben keine offenen Einladungen. Wenn das Nationalregister ein Familienmitglied, das Sie hinzufügen, nicht bestätigen kann, erhalten Sie einen Einladungscode für diese Person; er steht hier, bis sie antwortet.",
		"family.grants.add":            "Zur Familienseite der Anwendung",
		"family.grants.until":          "bis",
		"family.grants.waiting":        "wartet auf Antwort",
		"family.invite.where":          "Die Seite für die Person auf dieser Website:",
		"family.grants.pending":        "Ihre offenen Einladungen",
		"family.grants.cancel":         "Zurückziehen",
		"family.done.cancelled.title":  "Einladung zurückgezogen",
		"family.done.cancelled.body":   "Der Code funktioniert nicht mehr.",
		"family.back":                  "Zurück zur Anwendung",
		"family.invite.title":          "Familienmitglied noch nicht bestätigt",
		"family.invite.not_verified":   "Das Nationalregister bestätigt nicht, dass diese Person Ihr minderjähriges Kind ist oder unter Ihrer Vormundschaft steht. Unter derselben Adresse zu wohnen genügt nicht. Diese Person wurde daher nicht verknüpft.",
		"family.invite.registry_down":  "Wir können das Nationalregister derzeit nicht abfragen. Daher verknüpfen wir nichts auf seiner Grundlage. Sie können aber die Person selbst um Zustimmung bitten.",
		"family.invite.address":        "Die Person kann mit diesem einmaligen Einladungscode selbst zustimmen.",
		"family.invite.code":           "Einladungscode",
		"family.invite.member":         "Für",
		"family.invite.expires":        "Gültig bis",
		"family.invite.howto":          "Geben Sie den Code der Person selbst. Sie meldet sich mit ihrem eigenen itsme oder eID an, wählt auf der Familienseite der Gemeinde \"Ich habe einen Einladungscode erhalten\" und stimmt zu oder lehnt ab. Danach können Sie das Familienmitglied erneut hinzufügen.",
		"family.invite.once":           "Notieren Sie den Code jetzt: Wir speichern ihn nicht und zeigen ihn nicht erneut an.",
		"family.accept.title":          "Einladung eines Familienmitglieds",
		"family.accept.intro":          "Sie sind mit Ihrer eigenen Identität angemeldet. Geben Sie den Code ein, den Sie von der Person erhalten haben, die Zugang zu Ihren Daten erbittet.",
		"family.accept.code":           "Einladungscode",
		"family.accept.button":         "Weiter",
		"family.approve.title":         "Zustimmung geben?",
		"family.approve.intro":         "Diese Person erbittet Zugang zu Ihren Daten bei der Gemeinde:",
		"family.approve.requester":     "Antragsteller",
		"family.approve.app":           "Anwendung",
		"family.approve.scope":         "Zugang",
		"family.approve.until":         "Gültig bis",
		"family.approve.never":         "Diese Person kann niemals Ihr Passwort oder Ihre E-Mail-Adresse ändern. Sie können den Zugang jederzeit auf diesen Seiten widerrufen.",
		"family.approve.yes":           "Erlauben",
		"family.approve.no":            "Ablehnen",
		"family.scope.view":            "Ihre Daten ansehen",
		"family.grants.title":          "Ihre Familienverknüpfungen",
		"family.grants.intro":          "Hier sehen Sie, wer Zugang zu Ihren Daten hat und zu wessen Daten Sie Zugang haben. Sie können jede Verknüpfung widerrufen.",
		"family.grants.member":         "Wer hat Zugang zu Ihren Daten",
		"family.grants.requester":      "Zu wessen Daten haben Sie Zugang",
		"family.grants.revoke":         "Widerrufen",
		"family.grants.accept":         "Ich habe einen Einladungscode erhalten",
		"family.done.title":            "Erledigt",
		"family.done.approved.title":   "Zustimmung gegeben",
		"family.done.approved.body":    "Der Antragsteller kann Ihre Daten jetzt ansehen. Sie können dies jederzeit widerrufen.",
		"family.done.declined.title":   "Zustimmung abgelehnt",
		"family.done.declined.body":    "Es wurde nichts verknüpft.",
		"family.done.revoked.title":    "Verknüpfung widerrufen",
		"family.done.revoked.body":     "Die Verknüpfung ist beendet. Ab jetzt besteht kein Zugang mehr.",
		"err.family_nrn.title":         "Ungültige Nationalregisternummer",
		"err.family_nrn.body":          "Die Nationalregisternummer des Familienmitglieds fehlt oder ist falsch. Bitte prüfen Sie sie und versuchen Sie es erneut.",
		"err.family_request.title":     "Anfrage nicht eindeutig",
		"err.family_request.body":      "Ihre Anfrage konnte nicht eindeutig gelesen werden (ein Feld kam mehrfach vor, oder das Format stimmt nicht). Es wurde nichts verknüpft.",
		"err.family_self.title":        "Das sind Sie selbst",
		"err.family_self.body":         "Sie können sich nicht selbst als Familienmitglied hinzufügen.",
		"err.family_grant.title":       "Kein Zugang zu dieser Person",
		"err.family_grant.body":        "Sie haben für diese Handlung keine gültige Verknüpfung mit dieser Person. Sie wurde vielleicht widerrufen oder ist abgelaufen.",
		"err.family_credential.title":  "Nicht erlaubt",
		"err.family_credential.body":   "Das Passwort oder die E-Mail-Adresse einer anderen Person zu ändern ist nie möglich, auch nicht für ein Familienmitglied. Jede Person verwaltet ihre eigene Anmeldung.",
		"err.family_code.title":        "Code ungültig",
		"err.family_code.body":         "Dieser Einladungscode existiert nicht, wurde bereits verwendet oder ist abgelaufen.",
		"err.family_not_for_you.title": "Diese Einladung ist nicht für Sie",
		"err.family_not_for_you.body":  "Nur die eingeladene Person kann diese Einladung öffnen, angemeldet mit ihrer eigenen Identität. Es wurde nichts verknüpft.",
		"err.family_locked.title":      "Einladung gesperrt",
		"err.family_locked.body":       "Diese Einladung wurde zu oft von jemand anderem geöffnet und ist gesperrt. Bitten Sie um eine neue Einladung.",
		"err.family_rate.title":        "Zu viele Versuche",
		"err.family_rate.body":         "Sie haben zu oft einen falschen Code eingegeben. Bitte versuchen Sie es später erneut.",
		"err.family_too_many.title":    "Zu viele offene Einladungen",
		"err.family_too_many.body":     "Sie haben bereits viele unbeantwortete Einladungen. Warten Sie, bis sie beantwortet werden oder ablaufen.",
	},
	"en": {
		"family.resume.title":          "Check and send again",
		"family.resume.intro":          "You are logged in again. Below is what you had filled in; nothing has been sent yet. Check it and send it.",
		"family.resume.member":         "National register number of the family member",
		"family.resume.password":       "We do not keep passwords: please enter them again.",
		"family.resume.send":           "Send",
		"family.resume.cancel":         "Do not send",
		"family.grants.member_none":    "Nobody has access to your data. Do you want someone to be able to act for you? Ask them to add you as a family member in the application. They then receive an invitation code for you; enter it below with the button \"I received an invitation code\".",
		"family.grants.requester_none": "You do not have access to anyone else's data yet. To act for a family member, add them on the family page of the application.",
		"family.grants.pending_none":   "You have no open invitations. When the national register cannot confirm a family member you add, you receive an invitation code for that person; it is listed here until they answer.",
		"family.grants.add":            "To the family page of the application",
		"family.grants.until":          "until",
		"family.grants.waiting":        "waiting for an answer",
		"family.invite.where":          "The page for the person on this website:",
		"family.grants.pending":        "Your open invitations",
		"family.grants.cancel":         "Cancel",
		"family.done.cancelled.title":  "Invitation cancelled",
		"family.done.cancelled.body":   "The code no longer works.",
		"family.back":                  "Back to the application",
		"family.invite.title":          "Family member not confirmed",
		"family.invite.not_verified":   "The national register does not confirm that this person is your minor child or under your guardianship. Living at the same address is not enough. So this person was not linked.",
		"family.invite.registry_down":  "We cannot consult the national register right now, so nothing is linked on its word. You can still ask the person themselves for consent.",
		"family.invite.address":        "The person can consent themselves with this one-time invitation code.",
		"family.invite.code":           "Invitation code",
		"family.invite.member":         "For",
		"family.invite.expires":        "Valid until",
		"family.invite.howto":          "Give the code to the person themselves. They log in with their own itsme or eID, choose \"I received an invitation code\" on the municipality's family page, and approve or decline. Then you can add the family member again.",
		"family.invite.once":           "Write the code down now: we do not keep it and will not show it again.",
		"family.accept.title":          "Invitation from a family member",
		"family.accept.intro":          "You are logged in with your own identity. Enter the code you received from the person asking for access to your data.",
		"family.accept.code":           "Invitation code",
		"family.accept.button":         "Continue",
		"family.approve.title":         "Give consent?",
		"family.approve.intro":         "This person asks for access to your data at the municipality:",
		"family.approve.requester":     "Requester",
		"family.approve.app":           "Application",
		"family.approve.scope":         "Access",
		"family.approve.until":         "Valid until",
		"family.approve.never":         "This person can never change your password or e-mail address. You can withdraw the access at any time on these pages.",
		"family.approve.yes":           "Allow",
		"family.approve.no":            "Decline",
		"family.scope.view":            "view your data",
		"family.grants.title":          "Your family links",
		"family.grants.intro":          "Here you see who has access to your data, and to whose data you have access. You can withdraw every link.",
		"family.grants.member":         "Who has access to your data",
		"family.grants.requester":      "Whose data you have access to",
		"family.grants.revoke":         "Withdraw",
		"family.grants.accept":         "I received an invitation code",
		"family.done.title":            "Done",
		"family.done.approved.title":   "Consent given",
		"family.done.approved.body":    "The requester can now view your data. You can withdraw this at any time.",
		"family.done.declined.title":   "Consent declined",
		"family.done.declined.body":    "Nothing was linked.",
		"family.done.revoked.title":    "Link withdrawn",
		"family.done.revoked.body":     "The link has ended. From now on there is no access.",
		"err.family_nrn.title":         "Invalid national register number",
		"err.family_nrn.body":          "The family member's national register number is missing or wrong. Please check it and try again.",
		"err.family_request.title":     "Ambiguous request",
		"err.family_request.body":      "Your request could not be read unambiguously (a field appeared more than once, or the format is wrong). Nothing was linked.",
		"err.family_self.title":        "That is you",
		"err.family_self.body":         "You cannot add yourself as a family member.",
		"err.family_grant.title":       "No access to this person",
		"err.family_grant.body":        "You have no valid link with this person for this action. It may have been withdrawn or have expired.",
		"err.family_credential.title":  "Not allowed",
		"err.family_credential.body":   "Changing someone else's password or e-mail address is never possible, not even for a family member. Everyone manages their own login.",
		"err.family_code.title":        "Invalid code",
		"err.family_code.body":         "This invitation code does not exist, was already used, or has expired.",
		"err.family_not_for_you.title": "This invitation is not for you",
		"err.family_not_for_you.body":  "Only the invited person can open this invitation, logged in with their own identity. Nothing was linked.",
		"err.family_locked.title":      "Invitation locked",
		"err.family_locked.body":       "This invitation was opened too often by someone else and is locked. Ask for a new invitation.",
		"err.family_rate.title":        "Too many attempts",
		"err.family_rate.body":         "You entered a wrong code too often. Please try again later.",
		"err.family_too_many.title":    "Too many open invitations",
		"err.family_too_many.body":     "You already have many invitations without an answer. Wait until they are answered or expire.",
	},
}
