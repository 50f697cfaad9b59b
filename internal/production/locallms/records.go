package locallms

// Keys of the local LMS's records, in the checkout's table (single-table design):
//
//	user      pk=LMS#USER#<email>        sk=USER
//	role      pk=LMS#USER#<email>        sk=ROLE#<level>#<instance>#<role>
//	course    pk=LMS#COURSE#<shortname>  sk=COURSE
//	enrolment pk=LMS#COURSE#<shortname>  sk=ENROL#<user>
//	category  pk=LMS#CATEGORY            sk=NAME#<parent>#<name>
//
// E-mails are lowercased in keys: people are keyed by e-mail, case-insensitively.

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/production"
)

// tables reads and writes the local LMS's records.
type tables struct {
	db    *dynamodb.Client
	table string
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
}

// User is a user of the local LMS; its ID is the lowercased e-mail.
type User struct {
	ID           string `dynamodbav:"id"`
	Email        string `dynamodbav:"email"`
	FirstName    string `dynamodbav:"firstName"`
	LastName     string `dynamodbav:"lastName"`
	Organisation string `dynamodbav:"organisation,omitempty"`
	Lang         string `dynamodbav:"lang,omitempty"`
}

// Course is a course of the local LMS.
type Course struct {
	ID        string `dynamodbav:"id"`
	Shortname string `dynamodbav:"shortname"`
	Fullname  string `dynamodbav:"fullname"`
	Category  string `dynamodbav:"category,omitempty"`
}

// Enrolment is a user's enrolment in a local course.
type Enrolment struct {
	User   string     `dynamodbav:"user"`
	Course string     `dynamodbav:"course"`
	Role   string     `dynamodbav:"role"`
	Start  time.Time  `dynamodbav:"start"`
	End    *time.Time `dynamodbav:"end,omitempty"`
	Group  string     `dynamodbav:"group,omitempty"`
}

// Role is a role assignment on a context of the local LMS.
type Role struct {
	User     string `dynamodbav:"user"`
	Role     string `dynamodbav:"role"`
	Level    string `dynamodbav:"level"`
	Instance string `dynamodbav:"instance"`
}

func lmsUserPK(id string) string      { return "LMS#USER#" + strings.ToLower(id) }
func lmsCoursePK(short string) string { return "LMS#COURSE#" + short }

// putOnce writes item unless its key exists; created reports whether it did.
func (t *tables) putOnce(ctx context.Context, pk, sk string, v any) (created bool, old map[string]types.AttributeValue, err error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return false, nil, fmt.Errorf("encode %s: %w", pk, err)
	}
	item["pk"], item["sk"] = s(pk), s(sk)
	_, err = t.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &t.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if ccf.Item == nil {
			out, gerr := t.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
			if gerr != nil {
				return false, nil, fmt.Errorf("read %s: %w", pk, gerr)
			}
			return false, out.Item, nil
		}
		return false, ccf.Item, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("put %s: %w", pk, err)
	}
	return true, item, nil
}

// ensureUser creates the local user keyed by u.Email unless it exists.
func (t *tables) ensureUser(ctx context.Context, u User) (User, bool, error) {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	u.ID = u.Email
	created, item, err := t.putOnce(ctx, lmsUserPK(u.ID), "USER", u)
	if err != nil {
		return User{}, false, fmt.Errorf("local LMS user %s: %w", u.Email, err)
	}
	var got User
	if err := attributevalue.UnmarshalMap(item, &got); err != nil {
		return User{}, false, fmt.Errorf("decode local LMS user %s: %w", u.Email, err)
	}
	return got, created, nil
}

// user returns the local user of an e-mail; the error wraps production.ErrNotFound when
// absent.
func (t *tables) user(ctx context.Context, email string) (User, error) {
	id := strings.ToLower(strings.TrimSpace(email))
	return read[User](ctx, t, lmsUserPK(id), "USER", "local LMS user "+id)
}

// read returns the record at pk, sk, named what in errors; the error wraps
// production.ErrNotFound when there is none.
func read[T any](ctx context.Context, t *tables, pk, sk, what string) (T, error) {
	var v T
	out, err := t.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return v, fmt.Errorf("read %s: %w", what, err)
	}
	if out.Item == nil {
		return v, fmt.Errorf("%s: %w", what, production.ErrNotFound)
	}
	if err := attributevalue.UnmarshalMap(out.Item, &v); err != nil {
		return v, fmt.Errorf("decode %s: %w", what, err)
	}
	return v, nil
}

// ensureCourse creates the local course unless its short name exists.
func (t *tables) ensureCourse(ctx context.Context, c Course) (Course, bool, error) {
	if c.ID == "" {
		c.ID = c.Shortname
	}
	created, item, err := t.putOnce(ctx, lmsCoursePK(c.Shortname), "COURSE", c)
	if err != nil {
		return Course{}, false, fmt.Errorf("local LMS course %s: %w", c.Shortname, err)
	}
	var got Course
	if err := attributevalue.UnmarshalMap(item, &got); err != nil {
		return Course{}, false, fmt.Errorf("decode local LMS course %s: %w", c.Shortname, err)
	}
	return got, created, nil
}

// Course returns a local course; the error wraps production.ErrNotFound when absent.
func (t *tables) Course(ctx context.Context, shortname string) (Course, error) {
	return read[Course](ctx, t, lmsCoursePK(shortname), "COURSE", "local LMS course "+shortname)
}

// putEnrolment records (or replaces) an enrolment: enrolling is a set.
func (t *tables) putEnrolment(ctx context.Context, e Enrolment) error {
	item, err := attributevalue.MarshalMap(e)
	if err != nil {
		return fmt.Errorf("encode enrolment: %w", err)
	}
	item["pk"], item["sk"] = s(lmsCoursePK(e.Course)), s("ENROL#"+strings.ToLower(e.User))
	if _, err := t.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t.table, Item: item}); err != nil {
		return fmt.Errorf("put enrolment of %s in %s: %w", e.User, e.Course, err)
	}
	return nil
}

// enrolment returns an enrolment; the error wraps production.ErrNotFound when absent.
func (t *tables) enrolment(ctx context.Context, user, course string) (Enrolment, error) {
	return read[Enrolment](ctx, t, lmsCoursePK(course), "ENROL#"+strings.ToLower(user), fmt.Sprintf("enrolment of %s in %s", user, course))
}

// Enrolments returns every enrolment of a local course.
func (t *tables) Enrolments(ctx context.Context, course string) ([]Enrolment, error) {
	out, err := t.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &t.table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :e)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(lmsCoursePK(course)), ":e": s("ENROL#"),
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("query enrolments of %s: %w", course, err)
	}
	var list []Enrolment
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &list); err != nil {
		return nil, fmt.Errorf("decode enrolments of %s: %w", course, err)
	}
	return list, nil
}

// setEnrolmentEnd sets the end of an existing enrolment.
func (t *tables) setEnrolmentEnd(ctx context.Context, user, course string, until time.Time) error {
	end, err := attributevalue.Marshal(until.UTC())
	if err != nil {
		return fmt.Errorf("encode end: %w", err)
	}
	_, err = t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &t.table, Key: key(lmsCoursePK(course), "ENROL#"+strings.ToLower(user)),
		UpdateExpression:          aws.String("SET #end = :end"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames:  map[string]string{"#end": "end"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":end": end},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("enrolment of %s in %s: %w", user, course, production.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("extend enrolment of %s in %s: %w", user, course, err)
	}
	return nil
}

// putRole records a role assignment (a set: assigning twice changes nothing).
func (t *tables) putRole(ctx context.Context, r Role) error {
	item, err := attributevalue.MarshalMap(r)
	if err != nil {
		return fmt.Errorf("encode role: %w", err)
	}
	item["pk"] = s(lmsUserPK(r.User))
	item["sk"] = s("ROLE#" + r.Level + "#" + r.Instance + "#" + r.Role)
	if _, err := t.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t.table, Item: item}); err != nil {
		return fmt.Errorf("put role %s of %s: %w", r.Role, r.User, err)
	}
	return nil
}

// deleteRole removes a role assignment (removing one that is not there changes nothing).
func (t *tables) deleteRole(ctx context.Context, r Role) error {
	_, err := t.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &t.table,
		Key: map[string]types.AttributeValue{"pk": s(lmsUserPK(r.User)), "sk": s("ROLE#" + r.Level + "#" + r.Instance + "#" + r.Role)}})
	if err != nil {
		return fmt.Errorf("delete role %s of %s: %w", r.Role, r.User, err)
	}
	return nil
}

// Roles returns a local user's role assignments.
func (t *tables) Roles(ctx context.Context, user string) ([]Role, error) {
	out, err := t.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &t.table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :r)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(lmsUserPK(user)), ":r": s("ROLE#"),
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("query roles of %s: %w", user, err)
	}
	var list []Role
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &list); err != nil {
		return nil, fmt.Errorf("decode roles of %s: %w", user, err)
	}
	return list, nil
}

// ensureCategory creates the category (name, parent) unless it exists. Its
// ID is derived from name and parent so that concurrent creators agree.
func (t *tables) ensureCategory(ctx context.Context, name, parent string) (id string, created bool, err error) {
	sum := sha256.Sum256([]byte(parent + "\x00" + name))
	id = fmt.Sprintf("cat-%x", sum[:6])
	created, item, err := t.putOnce(ctx, "LMS#CATEGORY", "NAME#"+parent+"#"+name, struct {
		ID     string `dynamodbav:"id"`
		Name   string `dynamodbav:"name"`
		Parent string `dynamodbav:"parent"`
	}{id, name, parent})
	if err != nil {
		return "", false, fmt.Errorf("local LMS category %q: %w", name, err)
	}
	if v, ok := item["id"].(*types.AttributeValueMemberS); ok {
		id = v.Value
	}
	return id, created, nil
}

// categoryExists reports whether a category ID exists in the local LMS.
func (t *tables) categoryExists(ctx context.Context, id string) (bool, error) {
	out, err := t.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &t.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		FilterExpression:          aws.String("id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("LMS#CATEGORY"), ":id": s(id)},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return false, fmt.Errorf("query categories: %w", err)
	}
	return len(out.Items) > 0, nil
}
