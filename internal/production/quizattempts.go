package production

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// QuizAttemptsBalance names the account counter of extra attempts on a quiz.
func QuizAttemptsBalance(quiz string) string { return "quizAttempts#" + quiz }

// quizAttempts sells extra attempts on a quiz: attempts × quantity are added
// to the buyer's counter for that quiz (same exactly-once ADD as credits),
// which the LMS side reads to grant the attempts.
// Params: quiz (required), attempts (required, per unit).
type quizAttempts struct{ base }

func (*quizAttempts) ValidateParams(p map[string]string) error {
	if _, err := required(p, "quiz"); err != nil {
		return fmt.Errorf("quizattempts: %w", err)
	}
	if _, err := positiveInt(p, "attempts"); err != nil {
		return fmt.Errorf("quizattempts: %w", err)
	}
	return nil
}

func (h *quizAttempts) Postpay(ctx context.Context, j Job) (Result, error) {
	j, err := h.prepare(j)
	if err != nil {
		return Result{}, err
	}
	if err := h.ValidateParams(j.Params); err != nil {
		return Result{}, err
	}
	quiz := strings.TrimSpace(j.Params["quiz"])
	per, _ := positiveInt(j.Params, "attempts")
	total := int64(per) * int64(j.Quantity)
	inst, err := h.deliver(ctx, j, 0, nil, func(_ context.Context, now time.Time, _ map[string]string) (draft, error) {
		return draft{
			inst:     Instance{Context: quiz, Start: now, Data: map[string]string{"attempts": fmt.Sprint(total)}},
			balances: map[string]int64{QuizAttemptsBalance(quiz): total},
		}, nil
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Instances: []Instance{inst}, Feedback: Feedback{
		Public:     fmt.Sprintf("%d extra attempts on %s are available.", total, quiz),
		SalesAdmin: fmt.Sprintf("quizattempts %s: +%d on %s for %s [%s]", j.ItemCode, total, quiz, j.Customer.Email, inst.Reference),
	}}, nil
}
